// Chart.js is not vendored: the report inlines the copy Debian's libjs-chart.js installs, so the
// HTML opens offline and the project ships no third-party JavaScript of its own.
#pragma once
#include <string>

namespace normlab::report {

// Path of the minified UMD build: $NORMLAB_CHARTJS if set, else the libjs-chart.js location.
std::string chartjs_path();

// The file's text; a missing file throws UserError naming the path and the package to install.
std::string load_chartjs();

}  // namespace normlab::report
