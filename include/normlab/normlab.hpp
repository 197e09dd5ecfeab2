// The whole installed API: #include <normlab/normlab.hpp>, link normlab::core (CMake) or
// `pkg-config --libs normlab`. docs/library.md.
#pragma once
#include "normlab/adamw.hpp"
#include "normlab/language_model.hpp"
#include "normlab/tokenizer.hpp"
