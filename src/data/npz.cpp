#include "aquant/data/npz.h"

#include "data/util.h"
#include "data/zip.h"

#include <algorithm>
#include <zlib.h>

namespace aquant::data {

using detail::fail;

struct NpzArchive::Impl {
    std::string path;
    ByteSourcePtr file;
    std::vector<detail::ZipEntry> entries;  // .npy members only
    std::vector<std::string> names;

    const detail::ZipEntry& entry(const std::string& name) const {
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i] == name)
                return entries[i];
        }
        std::string have;
        for (const auto& n : names)
            have += (have.empty() ? "'" : ", '") + n + "'";
        fail(path, "no array '" + name + "'; the archive has " +
                       (have.empty() ? std::string("no arrays") : have));
    }

    std::string where(const std::string& name) const { return path + ": array '" + name + "'"; }

    ByteSourcePtr member(const std::string& name) const {
        return detail::zip_member_source(file, entry(name), where(name));
    }
};

NpzArchive::NpzArchive(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->file = open_file_source(path);
    for (auto& e : detail::read_zip_directory(*impl_->file)) {
        if (!detail::ends_with(e.name, ".npy"))
            continue;  // numpy ignores other members too
        impl_->names.push_back(e.name.substr(0, e.name.size() - 4));
        impl_->entries.push_back(std::move(e));
    }
}

NpzArchive::~NpzArchive() = default;
NpzArchive::NpzArchive(NpzArchive&&) noexcept = default;
NpzArchive& NpzArchive::operator=(NpzArchive&&) noexcept = default;

const std::string& NpzArchive::path() const {
    return impl_->path;
}

std::vector<std::string> NpzArchive::names() const {
    return impl_->names;
}

bool NpzArchive::contains(const std::string& name) const {
    for (const auto& n : impl_->names) {
        if (n == name)
            return true;
    }
    return false;
}

std::string NpzArchive::names_str() const {
    std::string s;
    for (const auto& n : impl_->names)
        s += (s.empty() ? "" : ", ") + n;
    return s;
}

NpyHeader NpzArchive::header(const std::string& name) const {
    return read_npy_header(*impl_->member(name));
}

ArrayRowReader NpzArchive::rows(const std::string& name) const {
    auto source = impl_->member(name);
    const NpyHeader h = read_npy_header(*source);
    return ArrayRowReader(source, h.layout);
}

Tensor NpzArchive::read(const std::string& name) const {
    const auto& e = impl_->entry(name);
    auto source = impl_->member(name);
    std::string bytes(static_cast<std::size_t>(source->size()), '\0');
    source->read_at(0, bytes.data(), bytes.size());  // a deflated member checks its CRC itself
    if (e.method == detail::kZipStored) {
        uLong crc = crc32(0L, Z_NULL, 0);
        std::size_t done = 0;
        while (done < bytes.size()) {
            const std::size_t chunk = std::min<std::size_t>(bytes.size() - done, 1u << 30);
            crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done),
                        static_cast<uInt>(chunk));
            done += chunk;
        }
        if (crc != e.crc32)
            fail(impl_->where(name), "CRC-32 mismatch (corrupt archive)");
    }
    auto mem = memory_source(std::move(bytes), impl_->where(name));
    const NpyHeader h = read_npy_header(*mem);
    return ArrayRowReader(mem, h.layout).read_all();
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays,
               const NpzWriteOptions& options) {
    std::vector<std::pair<std::string, std::string>> members;
    members.reserve(arrays.size());
    for (const auto& [name, t] : arrays) {
        try {
            members.emplace_back(name + ".npy", npy_bytes(t));
        } catch (const DataError& e) {
            fail(path, "array '" + name + "': " + e.what());
        }
    }
    detail::write_file_atomic(path,
                              detail::zip_bytes(members, options.compress, options.force_zip64));
}

}  // namespace aquant::data
