// Runs a libFuzzer target over files without libFuzzer: every file named on
// the command line, and every regular file inside each folder named (not
// recursive, sorted). Used to replay the committed regression corpus and the
// seed corpus in the sanitizer build (g++ or clang, any platform), where the
// fuzzing engine is not available or not wanted. Exit status 0 if all inputs
// ran; a failed invariant aborts.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* entry = readdir(d)) {
      const std::string name = entry->d_name;
      if (name.empty() || name[0] == '.' || name == "README.md") continue;
      const std::string path = dir + "/" + name;
      if (!IsDirectory(path)) files.push_back(path);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    if (IsDirectory(argv[i])) {
      const std::vector<std::string> files = ListFiles(argv[i]);
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else {
      inputs.push_back(argv[i]);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...  (no inputs found)\n", argv[0]);
    return 2;
  }
  for (const std::string& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 2;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    // A heap block of exactly the input's size (ASan sees over-reads).
    // (An empty input still gets a valid pointer, as libFuzzer gives it.)
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    uint8_t empty = 0;
    LLVMFuzzerTestOneInput(data.empty() ? &empty : data.data(), data.size());
  }
  std::fprintf(stderr, "ran %zu inputs: OK\n", inputs.size());
  return 0;
}
