// Precompiled header of the LibTorch-free targets (core's base, dataset_tools, strike-data).
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
