#include "report/chartjs.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/config.hpp"

namespace normlab::report {

std::string chartjs_path() {
  if (const char* env = std::getenv("NORMLAB_CHARTJS"); env && *env) return env;
  return "/usr/share/javascript/chart.js/chart.min.js";
}

std::string load_chartjs() {
  const std::string path = chartjs_path();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError(path +
                    ": Chart.js not found (install the Debian package libjs-chart.js, or "
                    "set NORMLAB_CHARTJS to a chart.min.js UMD build)");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string js = ss.str();
  // Inlined inside <script>; the sequence below would end the element early.
  if (js.find("</script") != std::string::npos || js.find("</SCRIPT") != std::string::npos)
    throw UserError(path + ": contains '</script' and cannot be inlined");
  if (js.find("Chart") == std::string::npos)
    throw UserError(path + ": does not look like Chart.js");
  return js;
}

}  // namespace normlab::report
