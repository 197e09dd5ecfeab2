// PNG export of the report's charts: the page's PNG variant is loaded in headless Chromium, which
// draws the charts with the same Chart.js code as the HTML; the page writes each chart's
// canvas.toDataURL() into the DOM, `chromium --dump-dom` prints it, and the images are decoded
// here. One renderer for both outputs keeps the PNGs identical to what the HTML shows.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace normlab::report {

// The Chromium binary: $NORMLAB_CHROMIUM if set, else the first of chromium, chromium-browser,
// google-chrome on PATH; "" when none is found.
std::string find_chromium();

// Renders `png_page_html` (a page made with PageOptions::png_mode) and writes every exported
// chart as DIR/NAME.png. Returns the paths written. Throws UserError when Chromium is missing,
// fails, or the page reports an error.
std::vector<std::string> export_pngs(const std::string& png_page_html, const std::string& png_dir);

// Pulls the (name, base64 data URL payload) pairs out of a dumped DOM; exposed for tests.
std::vector<std::pair<std::string, std::string>> extract_png_payloads(const std::string& dom);

// Standard base64 (RFC 4648 section 4) to bytes; whitespace is ignored, anything else throws
// std::invalid_argument.
std::string base64_decode(const std::string& text);

}  // namespace normlab::report
