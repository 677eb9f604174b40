// Anchor translation unit that owns the LibTorch-free precompiled header (see CMakeLists.txt).
#include "core/base_pch.h"
