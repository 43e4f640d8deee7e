#include "FuzzSupport.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace np::fuzz {

std::string writeInput(const std::uint8_t* data, std::size_t size, const std::string& suffix)
{
    static const std::string folder = [] {
        std::error_code ec;
        const std::filesystem::path shm("/dev/shm");
        const std::filesystem::path base =
            std::filesystem::is_directory(shm, ec) ? shm : std::filesystem::temp_directory_path();
        const auto path = base / ("np-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path, ec);
        return path.string();
    }();
    const std::string path = folder + "/input" + suffix;
    if (std::FILE* file = std::fopen(path.c_str(), "wb")) {
        if (size > 0)
            std::fwrite(data, 1, size, file);
        std::fclose(file);
    }
    return path;
}

const imaging::Volume& referenceVolume()
{
    static const imaging::Volume volume = [] {
        imaging::Geometry geometry;
        geometry.size = {16, 12, 6};
        geometry.spacing = {1.5, 1.5, 3.0};
        geometry.originLps = {-12.0, -9.0, -6.0};
        const double a = 0.2;
        geometry.directionLps =
            Mat3::fromColumns({std::cos(a), std::sin(a), 0}, {-std::sin(a), std::cos(a), 0}, {0, 0, 1});
        imaging::Volume v(geometry);
        v.info().seriesUid = "1.2.826.0.1.3680043.9.7777.1";
        v.info().frameOfReferenceUid = "1.2.826.0.1.3680043.9.7777.2";
        return v;
    }();
    return volume;
}

} // namespace np::fuzz
