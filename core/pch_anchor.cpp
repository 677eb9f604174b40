// Anchor translation unit that owns the shared precompiled header (see CMakeLists.txt).
#include "core/torch_pch.h"
