#include "data/util.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace aquant::data::detail {

std::string errno_text() {
    return std::strerror(errno);
}

std::string file_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

std::string join_path(const std::string& dir, const std::string& name) {
    if (dir.empty() || dir == ".")
        return name;
    if (!name.empty() && name[0] == '/')
        return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw IoError(path + ": cannot write: " + errno_text());
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const std::string why = errno_text();
            ::close(fd);
            ::unlink(tmp.c_str());
            throw IoError(path + ": cannot write: " + why);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        throw IoError(path + ": cannot write: " + why);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        throw IoError(path + ": cannot write: " + why);
    }
}

void byteswap_elements(void* data, std::size_t elem_size, std::size_t count) {
    if (elem_size <= 1)
        return;
    auto* p = static_cast<unsigned char*>(data);
    for (std::size_t i = 0; i < count; ++i, p += elem_size)
        std::reverse(p, p + elem_size);
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& where) {
    std::uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r))
        fail(where, "array size overflows 64 bits");
    return r;
}

}  // namespace aquant::data::detail
