// Precompiled header: the heavy third-party headers every LibTorch target includes.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>
#include <memory>
#include <map>
#include <functional>
