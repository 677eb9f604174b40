// Image folders (one sub-folder per class, PNG/JPEG inside) as an ImageSource.
#pragma once
#include <memory>
#include <string>

#include "dataset_tools/source.h"

namespace strike::data {

// Accepts either DIR/<class>/<images> (a train part only), or DIR/{train,val,test}/<class>/<images>
// where train is required and val/test are optional. Class names are train's sorted sub-folder
// names. Files are found recursively; hidden entries and files without a .png/.jpg/.jpeg/.jpe/.jfif
// extension are skipped. Every image's header is read up front (in parallel): an unreadable or
// corrupt image, an empty class folder or an unknown class in val/test throws Error naming it.
std::unique_ptr<ImageSource> open_image_folder_source(const std::string& dir);

}  // namespace strike::data
