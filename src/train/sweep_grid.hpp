// The grid of a sweep (docs/sweep.md): axes, each an option key with its values, and the cells
// of their cartesian product, each a run's config and directory name.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace normlab {

// One axis of the grid: an option key and its values as given.
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
  std::string origin;  // where it came from, for errors: "--lrs" or "FILE: line N"
};

// The axis of `key` from comma-separated text "V1,V2,..." (blanks around values dropped); an
// empty value throws UserError naming `origin`.
SweepAxis parse_axis(const std::string& key, const std::string& text, const std::string& origin);

// Throws the vocabulary's "unknown option 'x' (did you mean 'y'?)" error, naming `origin`, for a
// key that is not an option.
void check_option_key(const std::string& key, const std::string& origin);

// `later` axes replace `earlier` axes of the same key (command-line axes over file axes).
std::vector<SweepAxis> combine_axes(std::vector<SweepAxis> earlier,
                                    const std::vector<SweepAxis>& later);

// The axes given by the sweep options of `config` (placements, norms, depths, lrs, dts, seeds:
// comma-separated values of placement, norm, n_layers, lr, dt, seed), named "--placements", ...
// in errors.
std::vector<SweepAxis> option_axes(const Config& config);

// The axis of a --grid argument "KEY=V1,V2,..."; throws UserError for a malformed argument or an
// unknown key.
SweepAxis parse_grid_argument(const std::string& text);

// The axes of a sweep: the sweep file's `file_axes`, those of the same key replaced by
// `command_axes`. Throws UserError when two command axes share a key, when out_dir is an axis,
// or when a key of `fixed_keys` (set by a single-value flag) is also an axis.
std::vector<SweepAxis> sweep_axes(const std::vector<SweepAxis>& file_axes,
                                  const std::vector<SweepAxis>& command_axes,
                                  const std::set<std::string>& fixed_keys);

struct SweepCell {
  std::string name;  // directory name under the sweep directory
  Config config;     // effective config of the run; out_dir = SWEEP_DIR/name
};

// Every cell of the grid over `base` (whose out_dir is the sweep directory), in a fixed order:
// placement, norm, n_layers, lr, dt, other axes as given, seed (seed varies fastest). A cell is one
// run: its sweep options (placements, ...) are back at their defaults. Checks every
// value and every cell's model description before anything runs; throws UserError naming the
// axis origin or the run directory.
std::vector<SweepCell> expand_grid(const Config& base, const std::vector<SweepAxis>& axes);

// Readable, filesystem-safe run name:
// <placement>[-<norm>]-L<n>-lr<lr>-dt<dt>[-<key><value>]-s<seed> (norm and other keys only when
// they are grid axes), e.g. "b2t-L18-lr1e-3-dt1_sqrtL-s1".
std::string run_name(const Config& config, const std::vector<std::string>& axis_keys);

}  // namespace normlab
