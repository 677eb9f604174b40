// CLI11 wiring of the data commands onto ConvertOptions, inspect() and verify().
#include "dataset_tools/data_commands.h"

#include <iostream>
#include <memory>

#include "core/config.h"
#include "core/error.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/inspect.h"
#include "dataset_tools/verify.h"

namespace strike::data {

namespace {

void add_convert(CLI::App& data) {
  CLI::App* sub = core::add_configurable_subcommand(data, "convert",
    "Convert IDX files, image folders, a CSV file or text (class folders, CSV) into a sharded HDF5 dataset");
  auto options = std::make_shared<ConvertOptions>();
  sub->add_option("--source", options->source,
                  "Input kind: auto (csv for a *.csv file, IDX if train-images-idx3-ubyte[.gz] is present), idx, "
                  "image_folder, csv, text_folder (one sub-folder of text files per class), text_csv (text and "
                  "label columns)")
      ->check(CLI::IsMember({"auto", "idx", "image_folder", "csv", "text_folder", "text_csv"}));
  sub->add_option("--input", options->input,
                  "Raw data directory (IDX files, or one sub-folder of images per class), or a CSV file")
      ->required();
  sub->add_option("--output", options->output, "Dataset directory to write")->required();
  sub->add_option("--shards", options->shards, "Shards of the train split (val/test get proportionally fewer)")
      ->check(CLI::Range(int64_t{1}, int64_t{99999}));
  sub->add_option("--val-fraction", options->val_fraction, "Share of train carved out per class as val")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--test-fraction", options->test_fraction,
                  "Share of train carved out per class as test when the source has no test set")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--seed", options->seed, "Seed of the split and of the sample order");
  sub->add_option("--image-size", options->image_size, "Resize every image to NxN (0 = keep the source size)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--channels", options->channels, "1 (gray) or 3 (RGB); 0 = as stored")->check(CLI::IsMember({0, 1, 3}));
  sub->add_flag("--overwrite", options->overwrite, "Replace the dataset in a non-empty output directory");
  sub->add_option("--target", options->target, "CSV and text_csv: the class column (required for both)");
  sub->add_option("--categorical", options->categorical, "CSV: comma-separated columns to treat as categorical")
      ->delimiter(',');
  sub->add_option("--numeric", options->numeric, "CSV: comma-separated columns to treat as numeric")->delimiter(',');
  sub->add_option("--max-categories", options->max_categories,
                  "CSV: most distinct train values a categorical column may have")
      ->check(CLI::PositiveNumber);
  sub->add_option("--text-column", options->text_column, "text_csv: the column holding each document's text");
  sub->add_option("--label-map", options->label_map,
                  "text_folder: comma-separated FOLDER=CLASS entries merging folders into one class "
                  "(e.g. spam-1=spam,spam-2=spam); other folders keep their name")
      ->delimiter(',');
  sub->add_option("--tokenizer", options->tokenizer, "Text: sentencepiece model type")
      ->check(CLI::IsMember({"unigram", "bpe"}));
  sub->add_option("--vocab-size", options->vocab_size,
                  "Text: tokenizer vocabulary size (fewer pieces when the train text is small)")
      ->check(CLI::Range(int64_t{8}, int64_t{1000000}));
  sub->add_option("--max-tokens", options->max_tokens, "Text: token ids kept per document; longer ones are truncated")
      ->check(CLI::PositiveNumber);
  sub->add_option("--tokenizer-sample", options->tokenizer_sample,
                  "Text: bytes of train documents the tokenizer is trained on (a seeded random sample of about this size)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--tokenizer-min-count", options->tokenizer_min_count,
                  "Text: words seen fewer times in the tokenizer sample are left out of its training (1 keeps "
                  "every word); all are kept when that would leave out half the sample's text")
      ->check(CLI::PositiveNumber);
  sub->callback([options] {
    core::Manifest m = convert(*options);
    std::cout << "wrote " << options->output << ":";
    for (const auto& split : m.splits) std::cout << " " << split.name << " " << split.samples;
    std::cout << " samples, " << m.class_names.size() << " classes\n";
  });
}

void add_inspect(CLI::App& data) {
  CLI::App* sub = core::add_configurable_subcommand(data, "inspect", "Summarise a dataset directory");
  auto dir = std::make_shared<std::string>();
  sub->add_option("dir", *dir, "Dataset directory")->required();
  sub->callback([dir] { inspect(*dir, std::cout); });
}

void add_verify(CLI::App& data) {
  CLI::App* sub = core::add_configurable_subcommand(data, "verify",
    "Re-check every shard's checksum, shape and row count");
  auto dir = std::make_shared<std::string>();
  sub->add_option("dir", *dir, "Dataset directory")->required();
  sub->callback([dir] {
    VerifyReport report = verify(*dir);
    if (report.ok) {
      std::cout << "OK\n";
      return;
    }
    for (const auto& problem : report.problems) std::cout << problem << "\n";
    throw Error(std::to_string(report.problems.size()) + " problem(s) found", *dir,
                "re-create the dataset with `strike data convert --overwrite`");
  });
}

}  // namespace

void add_data_commands(CLI::App& parent) {
  CLI::App* data = parent.add_subcommand("data", "Convert, inspect and verify datasets");
  data->require_subcommand(1);
  add_convert(*data);
  add_inspect(*data);
  add_verify(*data);
}

}  // namespace strike::data
