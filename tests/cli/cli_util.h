// Runs the aquant binary (path from AQUANT_BIN, set by CMake) and captures its output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aquant::test {

struct CmdResult {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

inline std::string aquant_bin() {
    const char* b = std::getenv("AQUANT_BIN");
    return b ? b : "aquant";
}

inline std::string source_dir() { return AQUANT_SOURCE_DIR; }

inline std::string shared_models() {
    return (std::filesystem::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models").string();
}

/// Runs `cmd` with /bin/sh; stdout is captured, stderr goes to a temporary file and is read back.
inline CmdResult run_command(const std::string& cmd) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("aquant_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto err_file = dir / "stderr.txt";
    CmdResult r;
    FILE* p = ::popen((cmd + " 2>" + err_file.string()).c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream ef(err_file);
    std::stringstream ss;
    ss << ef.rdbuf();
    r.err = ss.str();
    return r;
}

inline CmdResult run_aquant(const std::string& args) { return run_command(aquant_bin() + " " + args); }

}  // namespace aquant::test
