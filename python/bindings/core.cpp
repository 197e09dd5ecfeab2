// normlab._core: the compiled part of the Python package (pybind11); python/normlab/__init__.py
// re-exports it, docs/python.md documents it. Models go through the installed C++ API
// (include/normlab); training and the sanity check through the library's trainer and driver, with
// the CLI's option vocabulary and precedence. Every long call releases the GIL; errors keep
// normlab's one-line message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>

#include "core/config.hpp"
#include "core/placement_presets.hpp"
#include "core/threads.hpp"
#include "normlab/normlab.hpp"
#include "train/interrupt.hpp"
#include "train/run_directory.hpp"
#include "train/sanity_check.hpp"
#include "train/trainer.hpp"

namespace py = pybind11;

namespace {

// ---- Python values <-> normlab's

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [key, value] : j.items()) d[py::str(key)] = to_python(value);
      return d;
    }
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& value : j) l.append(to_python(value));
      return l;
    }
    case nlohmann::json::value_t::string:
      return py::str(j.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    default:
      return py::none();
  }
}

// A Python value as its command-line text: True -> "true", 0.1 -> "0.1", [2, 4, 8] -> "2,4,8".
std::string option_text(const std::string& key, const py::handle& value) {
  if (value.is_none())
    throw normlab::UserError("options: option '" + key + "' is None; leave it out for its default");
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    std::string text;
    bool first = true;
    for (const py::handle item : value) {
      text += (first ? "" : ",") + option_text(key, item);
      first = false;
    }
    return text;
  }
  return py::str(value).cast<std::string>();
}

// A config file path: str or os.PathLike.
std::string path_text(const py::handle& path) {
  if (!py::isinstance<py::str>(path) && !py::hasattr(path, "__fspath__"))
    throw py::type_error("config: a dict of options or a config file path, got " +
                         py::str(path.get_type().attr("__name__")).cast<std::string>());
  return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

// What a `config` argument says: a config file path, or a dict of options (with an optional
// "config" entry naming a file below them), as --config FILE and --key VALUE flags.
struct ConfigSource {
  std::string file;  // none if empty
  normlab::api::Options options;
};

ConfigSource source_of(const py::handle& config) {
  ConfigSource s;
  if (!py::isinstance<py::dict>(config)) {
    s.file = path_text(config);
    return s;
  }
  for (const auto& [k, v] : py::reinterpret_borrow<py::dict>(config)) {
    const std::string key = py::str(k).cast<std::string>();
    if (key == "config")
      s.file = path_text(v);
    else
      s.options[key] = option_text(key, v);
  }
  return s;
}

// `config` resolved as the CLI resolves its command line (cli/config_flags.hpp): `c` (the
// defaults, a command's defaults, or a resumed run's config), then the file, then the options
// (origin "options", as the C++ API's), then the placement written out
// (core/placement_presets.hpp).
normlab::Config resolve(const py::handle& config, normlab::Config c) {
  const ConfigSource s = source_of(config);
  if (!s.file.empty()) c.merge_file(s.file);
  for (const auto& [key, value] : s.options) c.set(key, value, "options");
  return normlab::expand_placement(c);
}

// ---- Model: the installed LanguageModel, planned for the largest batch seen

struct Model {
  normlab::api::LanguageModel lm;
  int planned_batch = 0, planned_seq = 0;

  // Plans for B x T unless a plan for at least that size exists (a smaller batch reuses it).
  void fit_plan(int B, int T) {
    if (B <= planned_batch && T <= planned_seq) return;
    lm.plan(std::max(B, planned_batch), std::max(T, planned_seq));
    planned_batch = std::max(B, planned_batch), planned_seq = std::max(T, planned_seq);
  }
};

// A batch of token ids: inputs and targets, each row-major [B, T].
struct Batch {
  std::vector<std::int32_t> inputs, targets;
  int B = 0, T = 0;
};

// Token ids from an integer array-like of two dimensions, as int32.
std::vector<std::int32_t> token_ids(const py::handle& array, const char* what, int* rows,
                                    int* cols) {
  const py::array a = py::module_::import("numpy").attr("asarray")(array);
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(std::string(what) + ": token ids must be integers, got dtype " +
                         py::str(a.dtype()).cast<std::string>());
  if (a.ndim() != 2)
    throw py::value_error(std::string(what) + ": expected a [batch, seq_len] array, got " +
                          std::to_string(a.ndim()) + " dimensions");
  const auto ids = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  std::vector<std::int32_t> out(static_cast<size_t>(ids.size()));
  for (py::ssize_t i = 0; i < ids.size(); ++i) {
    const std::int64_t v = ids.data()[i];
    if (v < std::numeric_limits<std::int32_t>::min() ||
        v > std::numeric_limits<std::int32_t>::max())
      throw py::value_error(std::string(what) + ": token id " + std::to_string(v) +
                            " is outside the vocabulary");
    out[static_cast<size_t>(i)] = static_cast<std::int32_t>(v);
  }
  *rows = static_cast<int>(a.shape(0)), *cols = static_cast<int>(a.shape(1));
  return out;
}

// (inputs, targets) of the same shape [B, T], or rows of T + 1 ids as `normlab grad` reads them
// (inputs = rows[:, :-1], targets = rows[:, 1:]) when targets is None.
Batch batch_of(const py::handle& inputs, const py::handle& targets) {
  Batch b;
  if (targets.is_none()) {
    int cols = 0;
    const std::vector<std::int32_t> rows = token_ids(inputs, "tokens", &b.B, &cols);
    if (cols < 2) throw py::value_error("tokens: rows need at least 2 ids (inputs and targets)");
    b.T = cols - 1;
    for (int r = 0; r < b.B; ++r) {
      const auto row = rows.begin() + static_cast<std::ptrdiff_t>(r) * cols;
      b.inputs.insert(b.inputs.end(), row, row + b.T);
      b.targets.insert(b.targets.end(), row + 1, row + cols);
    }
    return b;
  }
  int B2 = 0, T2 = 0;
  b.inputs = token_ids(inputs, "inputs", &b.B, &b.T);
  b.targets = token_ids(targets, "targets", &B2, &T2);
  if (B2 != b.B || T2 != b.T)
    throw py::value_error("targets: shape [" + std::to_string(B2) + ", " + std::to_string(T2) +
                          "] differs from the inputs' [" + std::to_string(b.B) + ", " +
                          std::to_string(b.T) + "]");
  return b;
}

double forward(Model& m, const Batch& b) {
  m.fit_plan(b.B, b.T);
  return m.lm.forward(b.inputs.data(), b.targets.data(), b.B, b.T);
}

// {name: copy} of every parameter's values or gradients.
py::dict named_arrays(Model& m, bool gradients) {
  py::dict out;
  for (const std::string& name : m.lm.parameter_names()) {
    const std::vector<std::int64_t> shape = m.lm.parameter_shape(name);
    py::array_t<float> a(std::vector<py::ssize_t>(shape.begin(), shape.end()));
    const float* src = gradients ? m.lm.gradient(name) : m.lm.parameter(name);
    std::copy(src, src + a.size(), a.mutable_data());
    out[py::str(name)] = std::move(a);
  }
  return out;
}

// The model of `config` as `normlab init` makes it.
normlab::api::LanguageModel init_model(const py::handle& config) {
  const ConfigSource s = source_of(config);
  py::gil_scoped_release release;
  return normlab::api::LanguageModel::from_config(s.options, s.file);
}

// ---- Training

// The Python callback of train(): called with the GIL for every metrics line. An exception it
// raises (KeyboardInterrupt, a bug) stops the run as SIGINT would, so that the state of the step
// is saved (summary.json: "interrupted at step S"); train() raises it again after.
struct MetricsForwarder {
  py::object callback;
  std::optional<py::error_already_set> raised;

  void operator()(const nlohmann::json& metrics) {
    if (raised) return;  // the run is stopping
    py::gil_scoped_acquire acquire;
    try {
      callback(to_python(metrics));
    } catch (py::error_already_set& e) {
      raised = std::move(e);
      normlab::request_interrupt(SIGINT);
    }
  }
};

py::dict train(const py::object& config, const py::object& callback, bool resume, bool overwrite) {
  if (resume && overwrite)
    throw normlab::UserError("train: resume and overwrite exclude each other");
  normlab::Config c = resolve(config, normlab::Config::defaults());
  if (resume) {  // the run's own config, then what `config` changes (checked by the trainer)
    const std::filesystem::path out(c.get_string("out_dir"));
    std::error_code ec;
    if (!out.empty() && std::filesystem::exists(out / "config.yaml", ec))
      c = resolve(config, normlab::read_run_config(out));
  }
  const normlab::RunStart start = resume      ? normlab::RunStart::Resume
                                  : overwrite ? normlab::RunStart::Overwrite
                                              : normlab::RunStart::New;
  MetricsForwarder forwarder{callback, std::nullopt};
  normlab::MetricsCallback on_metrics;
  if (!callback.is_none()) on_metrics = std::ref(forwarder);
  normlab::TrainResult r;
  {
    py::gil_scoped_release release;
    r = normlab::train(c, start, on_metrics);
  }
  // The CLI's line about a saved interrupt (cli/cmd_train.cpp).
  auto saved_line = [&](const std::string& by) {
    return "train: " + r.status + " by " + by + "; the state of step " + std::to_string(r.steps) +
           " is saved (" + c.get_string("out_dir") + "/summary.json)";
  };
  if (forwarder.raised) {
    if (r.signal != 0) forwarder.raised->value().attr("add_note")(saved_line("the callback"));
    throw *forwarder.raised;
  }
  // A signal was handled as the CLI handles it (the state of the step is saved); then Python's
  // meaning of the signal: Ctrl-C raises KeyboardInterrupt, SIGTERM exits as the CLI does.
  if (r.signal == SIGINT) {
    PyErr_SetString(PyExc_KeyboardInterrupt, saved_line("SIGINT").c_str());
    throw py::error_already_set();
  }
  if (r.signal != 0) {
    py::print(saved_line(normlab::signal_name(r.signal)),
              py::arg("file") = py::module_::import("sys").attr("stderr"));
    PyErr_SetObject(PyExc_SystemExit, py::int_(128 + r.signal).ptr());
    throw py::error_already_set();
  }
  py::dict summary;
  summary["status"] = r.status;
  summary["steps"] = r.steps;
  summary["last_loss"] = r.last_loss;
  summary["valid_loss"] = r.valid_loss;
  summary["skipped"] = r.skipped;
  summary["spikes"] = r.spikes;
  summary["out_dir"] = c.get_string("out_dir");
  return summary;
}

py::object sanity_check(const py::object& config, const py::object& progress) {
  normlab::Config base = normlab::Config::defaults();
  for (const normlab::SanityDefault& d : normlab::sanity_check_defaults())
    base.set(d.key, d.value, "sanity-check default");
  normlab::Config c = resolve(config, std::move(base));
  const normlab::SanityData data = normlab::sanity_check_data(c);
  const normlab::SanityOptions options = normlab::sanity_options(c);
  std::function<void(const std::string&)> on_depth;
  if (!progress.is_none())
    on_depth = [&progress](const std::string& line) {
      py::gil_scoped_acquire acquire;
      progress(line);  // an exception ends the check (it writes no files) and propagates
    };
  nlohmann::json report;
  {
    py::gil_scoped_release release;
    normlab::configure_threads(static_cast<int>(c.get_int("threads")));
    report = normlab::report_json(
        normlab::run_sanity_check(c, options, data.tokens, data.label, on_depth));
  }
  return to_python(report);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "normlab's engine from Python (docs/python.md)";
  // normlab's errors (bad input: "WHERE: problem", as the CLI prints after 'normlab: error:').
  py::register_exception<normlab::UserError>(m, "Error", PyExc_RuntimeError);

  py::class_<Model>(m, "Model", "A decoder-only language model (arch=lm), float32.")
      .def_property_readonly("vocab_size", [](const Model& s) { return s.lm.vocab_size(); })
      .def_property_readonly("seq_len", [](const Model& s) { return s.lm.max_seq_len(); })
      .def_property_readonly("parameter_count",
                             [](const Model& s) { return s.lm.parameter_count(); })
      .def_property_readonly(
          "config",
          [](const Model& s) { return to_python(nlohmann::json::parse(s.lm.config_json())); },
          "The effective config: every option, typed.")
      .def(
          "loss",
          [](Model& self, const py::object& inputs, const py::object& targets) {
            const Batch b = batch_of(inputs, targets);
            py::gil_scoped_release release;
            return forward(self, b);
          },
          py::arg("inputs"), py::arg("targets") = py::none(),
          "Mean cross-entropy (nats per token) of targets [B, T] given inputs [B, T] (token ids; a "
          "target -1 is ignored), or of rows [B, T + 1] alone as `normlab grad` reads them.")
      .def(
          "loss_and_grads",
          [](Model& self, const py::object& inputs, const py::object& targets) {
            const Batch b = batch_of(inputs, targets);
            double loss = 0;
            {
              py::gil_scoped_release release;
              self.lm.zero_grads();
              loss = forward(self, b);
              self.lm.backward();
            }
            return py::make_tuple(loss, named_arrays(self, true));
          },
          py::arg("inputs"), py::arg("targets") = py::none(),
          "(loss, {name: gradient}) as `normlab grad` computes them: float32 numpy arrays keyed by "
          "parameter name, shaped as the parameters.")
      .def(
          "parameters", [](Model& self) { return named_arrays(self, false); },
          "{name: array}: a copy of every parameter (docs/model.md's names, [out, in] weights).")
      .def(
          "set_training", [](Model& self, bool on) { self.lm.set_training(on); }, py::arg("on"),
          "Dropout on or off (off after load and init).")
      .def(
          "save",
          [](const Model& self, const std::string& path) {
            py::gil_scoped_release release;
            self.lm.save(path);
          },
          py::arg("path"), "Writes a checkpoint (atomically), loadable by the CLI.");

  m.def(
      "load",
      [](const std::string& checkpoint) {
        py::gil_scoped_release release;
        return Model{normlab::api::LanguageModel::load(checkpoint)};
      },
      py::arg("checkpoint"), "A checkpoint of `normlab train` or `normlab init` (arch=lm).");
  m.def(
      "init", [](const py::object& config) { return Model{init_model(config)}; },
      py::arg("config") = py::dict(),
      "A freshly initialised model as `normlab init` makes it: the defaults, then `config` (a "
      "dict of options, or a config file path); its `seed` option seeds the initialisation.");
  m.def("train", &train, py::arg("config"), py::arg("callback") = py::none(), py::kw_only(),
        py::arg("resume") = false, py::arg("overwrite") = false,
        "Trains as `normlab train`: config is a dict of options or a YAML/JSON file; "
        "callback(metrics) after every step and validation. Returns the run's summary.");
  m.def("sanity_check", &sanity_check, py::arg("config") = py::dict(),
        py::arg("progress") = py::none(),
        "The depth sanity check of a design (docs/sanity-check.md) with sanity-check's "
        "defaults; returns its report (the --json_out file's content).");
}
