// Python can read the shards: h5py sees the arrays with the expected shape and dtype, and numpy's
// mean/std of the train split agree with the manifest.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "dataset_tools/converter.h"
#include "test_util.h"

namespace strike {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

constexpr const char* kScript = R"PY(
import glob, json, sys
import h5py, numpy as np
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
images, total = [], 0
for s in m["splits"]["train"]["shards"]:
    with h5py.File(d + "/" + s["file"], "r") as f:
        assert f["image"].dtype == np.uint8, f["image"].dtype
        assert f["label"].dtype == np.int64, f["label"].dtype
        assert f["image"].shape == (s["samples"], 1, 6, 5), f["image"].shape
        assert f["label"].shape == (s["samples"],), f["label"].shape
        assert f["label"][:].min() >= 0 and f["label"][:].max() < len(m["class_names"])
        images.append(f["image"][:])
x = np.concatenate(images).astype(np.float64) / 255.0
assert abs(x.mean() - m["statistics"]["mean"][0]) < 1e-9, (x.mean(), m["statistics"]["mean"])
assert abs(x.std() - m["statistics"]["std"][0]) < 1e-9, (x.std(), m["statistics"]["std"])
print("ok")
)PY";

TEST(H5pyInterop, ShardsReadableFromPython) {
  if (std::system((std::string(kPython) + " -c 'import h5py, numpy' >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "h5py is not available to " << kPython;
  }
  test::TempDir dir;
  std::filesystem::create_directories(dir / "raw");
  test::write_idx_set(test::make_idx_set(100, 20, 6, 5, 10), dir / "raw", false);
  data::ConvertOptions options;
  options.input = dir / "raw";
  options.output = dir / "ds";
  data::convert(options);
  std::ofstream(dir / "check.py") << kScript;
  std::string command = std::string(kPython) + " " + (dir / "check.py") + " " + options.output + " > " + (dir / "log") + " 2>&1";
  int rc = std::system(command.c_str());
  std::ifstream log(dir / "log");
  std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << output;
}

// PIL writes the images and decodes them again, torchvision resizes them: the converted pixels must
// match what a Python pipeline would feed a model (to within 1 for float rounding order).
constexpr const char* kParityScript = R"PY(
import glob, os, sys
import h5py, numpy as np, torch
from PIL import Image
import torchvision.transforms.functional as TF
src, ds, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "write":
    rng = np.random.default_rng(0)
    for cls, n in (("a", 3), ("b", 3)):
        os.makedirs(f"{src}/{cls}", exist_ok=True)
        for i in range(n):
            h, w = 20 + 7 * i, 31 - 3 * i
            yy, xx = np.mgrid[0:h, 0:w]
            rgb = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy + 40 * i) % 256)], -1).astype(np.uint8)
            im = Image.fromarray(rgb)
            if i == 0: im.save(f"{src}/{cls}/{i}.jpg", quality=90)
            elif i == 1: im.convert("P", palette=Image.ADAPTIVE).save(f"{src}/{cls}/{i}.png")
            else: im.convert("L").save(f"{src}/{cls}/{i}.jpeg")
    sys.exit(0)
channels = int(mode)
expected = []
for path in sorted(glob.glob(f"{src}/*/*")):
    im = Image.open(path).convert("RGB" if channels == 3 else "L")
    t = torch.from_numpy(np.array(im))
    t = t[None] if t.dim() == 2 else t.permute(2, 0, 1)
    expected.append(TF.resize(t, [16, 16], antialias=False).numpy().astype(int))
rows = []
for f in sorted(glob.glob(f"{ds}/*.h5")):
    with h5py.File(f, "r") as h: rows.extend(h["image"][:].astype(int))
assert len(rows) == len(expected), (len(rows), len(expected))
for r in rows:
    best = min(np.abs(r - e).max() for e in expected)
    assert best <= 1, best
print("ok")
)PY";

TEST(H5pyInterop, PixelsMatchPilAndTorchvision) {
  if (std::system((std::string(kPython) + " -c 'import h5py, torch, torchvision, PIL' >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "h5py/torchvision/PIL are not available to " << kPython;
  }
  test::TempDir dir;
  std::ofstream(dir / "parity.py") << kParityScript;
  auto python = [&](const std::string& mode, const std::string& ds) {
    std::string command = std::string(kPython) + " " + (dir / "parity.py") + " " + (dir / "src") + " " + ds + " " + mode +
                          " > " + (dir / "log") + " 2>&1";
    int rc = std::system(command.c_str());
    std::ifstream log(dir / "log");
    std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ASSERT_EQ(rc, 0) << mode << ": " << output;
  };
  python("write", "-");
  for (int64_t channels : {3, 1}) {
    data::ConvertOptions options;
    options.input = dir / "src";
    options.output = dir / ("ds" + std::to_string(channels));
    options.image_size = 16;
    options.channels = channels;
    options.val_fraction = 0;
    options.test_fraction = 0;
    data::convert(options);
    python(std::to_string(channels), options.output);
  }
}

}  // namespace
}  // namespace strike
