// nGPT's learnable scales (Loshchilov et al. 2024, arXiv 2410.01131, sections 2.2-2.5; NVIDIA/ngpt
// model.py): the eigen learning rates alpha_A, alpha_M (eq. 10-11), the query-key scale s_qk
// (eq. 16), the MLP's s_v (eq. 20-21) and the logit scale s_z (eq. 3). Each is stored as theta
// with theta = s_scale at initialisation and used as s = theta * (s_init / s_scale): Adam's
// steps on theta then move s at a rate set by s_scale, the paper's trick to give these vectors
// a learning rate of their own under one global lr.
//   alpha:  s_init 0.05, s_scale 1/sqrt(d)  (used as |s|)
//   s_qk:   s_init 1,    s_scale 1/sqrt(d)
//   s_v:    s_init 1,    s_scale 1; the forward multiplies by a further sqrt(d)
//   s_z:    s_init 1,    s_scale 1/sqrt(d)
#pragma once
#include <string>

namespace normlab {

enum class SphereScale { Alpha, QueryKey, Mlp, Logit };

// The parameter name's last part: "alpha", "s_qk", "s_v", "s_z".
const char* sphere_scale_name(SphereScale which);
// s_init / s_scale for width d: what the stored theta is multiplied by when used.
float sphere_scale_factor(SphereScale which, int d);
// theta's value at initialisation (s_scale) for the parameter `name` (ending in one of the
// names above), width d.
float sphere_scale_initial(const std::string& name, int d);

}  // namespace normlab
