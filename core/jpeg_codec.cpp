// libjpeg(-turbo) decoding and header probing. The default error manager calls exit(); ours
// longjmps back to a function whose only locals are plain C data, which then throws strike::Error.
#include <cstdio>  // jpeglib.h needs FILE
#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/image_codecs.h"

namespace strike::core::codecs {

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// libjpeg pads a truncated file with grey and only warns; a silently half-grey image would poison
// the dataset, so premature end of file is fatal. Other corrupt-data warnings are tolerated, like PIL.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

struct JpegJob {
  const std::vector<uint8_t>* bytes = nullptr;  // decode from memory, or
  FILE* file = nullptr;                         // probe from a file
  bool header_only = false;
  std::vector<uint8_t> hwc;
  int64_t channels = 0, height = 0, width = 0;
  bool cmyk = false;
  char message[JMSG_LENGTH_MAX] = {0};
};

// Returns false with job->message set on any libjpeg error.
bool decode_raw(JpegJob* job) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  std::memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    std::memcpy(job->message, err.message, sizeof(err.message));
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  if (job->file) {
    jpeg_stdio_src(&cinfo, job->file);
  } else {
    jpeg_mem_src(&cinfo, job->bytes->data(), static_cast<unsigned long>(job->bytes->size()));
  }
  jpeg_read_header(&cinfo, TRUE);
  job->cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  job->channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
  job->height = cinfo.image_height;
  job->width = cinfo.image_width;
  if (job->height * job->width > kMaxPixels) {
    std::snprintf(err.message, sizeof(err.message), "image is too large");
    std::longjmp(err.jump, 1);
  }
  if (job->header_only) {
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  // libjpeg-turbo cannot convert CMYK to RGB itself; decode CMYK and convert below.
  cinfo.out_color_space = job->cmyk ? JCS_CMYK : (job->channels == 1 ? JCS_GRAYSCALE : JCS_RGB);
  jpeg_start_decompress(&cinfo);
  const size_t stride = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
  job->hwc.resize(stride * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = job->hwc.data() + cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// Adobe writes CMYK JPEGs inverted, which is what nearly every CMYK JPEG in the wild is.
std::vector<uint8_t> cmyk_to_rgb(const std::vector<uint8_t>& cmyk) {
  std::vector<uint8_t> rgb(cmyk.size() / 4 * 3);
  for (size_t i = 0, o = 0; i + 3 < cmyk.size(); i += 4, o += 3) {
    unsigned k = cmyk[i + 3];
    for (int c = 0; c < 3; ++c) rgb[o + c] = static_cast<uint8_t>((cmyk[i + c] * k + 127) / 255);
  }
  return rgb;
}

[[noreturn]] void corrupt(const JpegJob& job, const std::string& path) {
  throw Error(std::string("corrupt JPEG: ") + (job.message[0] ? job.message : "libjpeg failed"), path,
              "re-export the image or remove it from the dataset");
}

}  // namespace

bool is_jpeg(const uint8_t* data, size_t size) { return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF; }

Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& path) {
  JpegJob job;
  job.bytes = &bytes;
  if (!decode_raw(&job)) corrupt(job, path);
  if (job.cmyk) job.hwc = cmyk_to_rgb(job.hwc);
  return from_interleaved(job.hwc, job.channels, job.height, job.width);
}

Image probe_jpeg(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error("cannot open image", path, "check that the file exists and is readable");
  JpegJob job;
  job.file = file.get();
  job.header_only = true;
  if (!decode_raw(&job)) corrupt(job, path);
  Image info;
  info.channels = job.channels;
  info.height = job.height;
  info.width = job.width;
  return info;
}

}  // namespace strike::core::codecs
