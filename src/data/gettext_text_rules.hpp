// Text rules for messages of GNU gettext catalogs (and UI strings generally): keyboard
// accelerators, printf/Python/brace format directives and HTML/Pango markup, which a translation
// must carry over unchanged. parallel_cleaning uses them to keep only pairs whose two sides agree
// (docs/parallel-corpus.md).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace normlab {

// Removes one keyboard accelerator marker: GTK '_' or Qt/KDE '&' in front of a letter or digit
// ("_File" -> "File", "Sa_ve" -> "Save", "&Open" -> "Open"). Only done when the text holds
// exactly one candidate of that kind, so "a_b_c", "&&" and entities such as "&amp;" stay.
std::string strip_accelerator(std::string_view text);

// The format directives of a message as a sorted multiset: printf conversions ("%s", "%5.2f",
// "%lu", positional "%2$s" counted as "%s"; the space flag is not read, so "50 % der" is text),
// Python named ones ("%(name)s") and brace fields
// ("{}", "{0}", "{name:>4}"). "%%" and "{{"/"}}" are literals, not directives.
std::vector<std::string> format_directives(std::string_view text);

// `text` with each format directive replaced by `placeholder`.
std::string replace_directives(std::string_view text, std::string_view placeholder);

// Sorted multiset of HTML/Pango markup tags ("b", "/b", "span", "br/"...). Only a fixed set of
// tag names counts as markup; "<FILE>" or "<Datei>" in usage strings is text.
std::vector<std::string> markup_tags(std::string_view text);

}  // namespace normlab
