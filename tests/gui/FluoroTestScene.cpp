#include "FluoroTestScene.h"

#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/file.h>
#include <unistd.h>

namespace np::test {

namespace {

constexpr const char* kTargetName = "L4 medial branch left";

struct Generated
{
    imaging::Volume ct;
    Vec3 targetLps;
};

Generated generate()
{
    phantom::PhantomOptions options;
    options.spacing = {1.2, 1.2, 1.5};
    phantom::Phantom p = phantom::generateLumbarPhantom(options);
    Generated g{std::move(p.ct), {}};
    for (const auto& t : p.targets)
        if (t.name.find(kTargetName) != std::string::npos)
            g.targetLps = t.positionLps;
    return g;
}

/// Holds an exclusive lock on `path` while alive.
class FileLock
{
public:
    explicit FileLock(const std::filesystem::path& path) : m_fd(::open(path.c_str(), O_CREAT | O_RDWR, 0644))
    {
        if (m_fd >= 0)
            ::flock(m_fd, LOCK_EX);
    }
    ~FileLock()
    {
        if (m_fd >= 0) {
            ::flock(m_fd, LOCK_UN);
            ::close(m_fd);
        }
    }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int m_fd;
};

/// The phantom from the shared folder, written there first by whichever process comes first.
Generated sharedOrGenerated()
{
    const char* shared = std::getenv("NP_GUI_SHARED_DIR");
    if (!shared || !*shared)
        return generate();
    const std::filesystem::path dir(shared);
    std::filesystem::create_directories(dir);
    const FileLock lock(dir / "fluoro-phantom.lock");
    const auto ctPath = dir / "fluoro-phantom-ct.nrrd";
    const auto infoPath = dir / "fluoro-phantom.txt"; // written last: its presence means complete
    if (std::filesystem::exists(infoPath)) {
        Generated g{imaging::loadVolume(ctPath.string()), {}};
        std::ifstream info(infoPath);
        std::string position, modality, frameOfReference;
        info >> g.targetLps.x >> g.targetLps.y >> g.targetLps.z >> position >> modality >> frameOfReference;
        g.ct.info().patientPosition = position;
        g.ct.info().modality = modality;
        g.ct.info().frameOfReferenceUid = frameOfReference == "-" ? std::string() : frameOfReference;
        return g;
    }
    Generated g = generate();
    imaging::writeVolumeNrrd(g.ct, ctPath.string());
    const auto temporary = dir / "fluoro-phantom.txt.tmp";
    {
        std::ofstream info(temporary);
        info.precision(17);
        const auto& i = g.ct.info();
        info << g.targetLps.x << ' ' << g.targetLps.y << ' ' << g.targetLps.z << ' ' << i.patientPosition
             << ' ' << (i.modality.empty() ? "CT" : i.modality) << ' '
             << (i.frameOfReferenceUid.empty() ? "-" : i.frameOfReferenceUid) << '\n';
    }
    std::filesystem::rename(temporary, infoPath);
    return g;
}

} // namespace

std::pair<double, double> HandPinhole::pixel(const Vec3& pointLps) const
{
    constexpr double kPi = 3.14159265358979323846;
    const double a = primaryDeg * kPi / 180.0, b = secondaryDeg * kPi / 180.0;
    const Vec3 v{std::sin(a) * std::cos(b), -std::cos(a) * std::cos(b), std::sin(b)};
    const Vec3 u{std::cos(a), std::sin(a), 0.0};
    const Vec3 w{std::sin(a) * std::sin(b), -std::cos(a) * std::sin(b), -std::cos(b)};
    const Vec3 source = isocenterLps - v * sodMm;
    const Vec3 ray = pointLps - source;
    const double lambda = sidMm / (ray.x * v.x + ray.y * v.y + ray.z * v.z);
    const Vec3 fromCentre = ray * lambda - v * sidMm; // on the detector, from its centre
    const double c0 = 0.5 * (size - 1);
    return {c0 + (fromCentre.x * u.x + fromCentre.y * u.y + fromCentre.z * u.z) / pitchMm,
            c0 + (fromCentre.x * w.x + fromCentre.y * w.y + fromCentre.z * w.z) / pitchMm};
}

const FluoroScene& fluoroScene()
{
    static std::unique_ptr<FluoroScene> s;
    if (!s) {
        Generated g = sharedOrGenerated();
        s = std::make_unique<FluoroScene>();
        s->targetLps = g.targetLps;
        s->entryLps = s->targetLps + Vec3{25.0, 60.0, 10.0}; // posterior, lateral, cranial (prone)
        s->ct = std::make_shared<imaging::Volume>(std::move(g.ct));
        s->attenuation = imaging::AttenuationVolume(*s->ct);
    }
    return *s;
}

} // namespace np::test
