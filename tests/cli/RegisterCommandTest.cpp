// needleplan-cli register end to end: a CT of the lumbar phantom (NRRD) and an XA made from the
// phantom on another grid at a known pose (noise, blur, shutters, text, a needle), then the pose
// file read back by triangulate. The real XA cine (no CT of its own) must fail cleanly.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/phantom/SimulatedFluoroscopy.h"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;
using np::Vec3;
using namespace np::imaging;

namespace {

struct Files
{
    np::test::TempDir dir{"np-register"};
    std::string ct;
    std::string fluoro;  ///< PA, made at `truth`
    std::string flipped; ///< the same, upside down
    std::string lateral; ///< LAO 90, made at `truth`
    Vec3 targetLps;
    RigidTransform truth;
    CArmGeometry pa{CArmParameters{}};
    CArmGeometry lat{CArmParameters{}};
};

std::vector<std::uint8_t> bytes(const FluoroFrame& frame)
{
    std::vector<std::uint8_t> out(frame.pixels.size());
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::uint8_t>(std::clamp(frame.pixels[i], 0.0f, 255.0f));
    return out;
}

const Files& files()
{
    static std::unique_ptr<Files> f;
    if (!f) {
        f = std::make_unique<Files>();
        np::phantom::PhantomOptions ctOptions;
        ctOptions.spacing = {1.5, 1.5, 1.5};
        const auto phantom = np::phantom::generateLumbarPhantom(ctOptions);
        f->ct = (f->dir.path() / "ct.nrrd").string();
        writeVolumeNrrd(phantom.ct, f->ct);
        for (const auto& t : phantom.targets)
            if (t.name.find("L4 medial branch left") != std::string::npos)
                f->targetLps = t.positionLps;
        np::phantom::PhantomOptions sourceOptions;
        sourceOptions.spacing = {1.0, 1.0, 1.2};
        sourceOptions.seed = 3;
        const AttenuationVolume source(np::phantom::generateLumbarPhantom(sourceOptions).ct);
        f->truth = RigidTransform::fromAnglesDeg({1.5, -2.0, 2.0}, {4.0, -3.0, 3.0}, f->targetLps);
        CArmParameters p;
        p.primaryDeg = 180.0;
        p.isocenterLps = f->targetLps;
        p.patientPosition = "HFP";
        f->pa = CArmGeometry(p);
        p.primaryDeg = 90.0;
        f->lat = CArmGeometry(p);
        np::phantom::FluoroSimulationOptions o;
        o.needleLps = std::make_pair(f->targetLps + Vec3{25.0, 60.0, 10.0}, f->targetLps);
        f->fluoro = (f->dir.path() / "pa.dcm").string();
        writeXaImage(f->fluoro, {f->pa},
                     {bytes(np::phantom::simulateFluoroscopy(source, f->pa, f->truth, o))});
        f->lateral = (f->dir.path() / "lat.dcm").string();
        writeXaImage(f->lateral, {f->lat},
                     {bytes(np::phantom::simulateFluoroscopy(source, f->lat, f->truth, o))});
        o.flipVertically = true;
        f->flipped = (f->dir.path() / "flipped.dcm").string();
        writeXaImage(f->flipped, {f->pa},
                     {bytes(np::phantom::simulateFluoroscopy(source, f->pa, f->truth, o))});
    }
    return *f;
}

std::string triple(const Vec3& v)
{
    std::ostringstream s;
    s.precision(10);
    s << v.x << "," << v.y << "," << v.z;
    return s.str();
}

} // namespace

TEST(RegisterCommand, RejectsBadInput)
{
    const Files& f = files();
    const std::string out = (f.dir.path() / "bad.json").string();
    EXPECT_EQ(np::test::runCli({"register", "--image", f.ct, "--fluoro", f.fluoro, "--out", out}).exitCode,
              2);
    EXPECT_EQ(np::test::runCli({"register", "--image", f.ct, "--fluoro", (f.dir.path() / "none.dcm").string(),
                                "--isocenter", "0,0,0", "--out", out})
                  .exitCode,
              2);
    EXPECT_EQ(np::test::runCli(
                  {"register", "--image", f.ct, "--fluoro", f.fluoro, "--isocenter", "0,0", "--out", out})
                  .exitCode,
              2);
    EXPECT_EQ(np::test::runCli({"register", "--image", f.ct, "--fluoro", f.fluoro, "--isocenter", "0,0,0",
                                "--frame", "2", "--out", out})
                  .exitCode,
              2);
    EXPECT_FALSE(fs::exists(out));
}

TEST(RegisterCommand, RegistersTwoViewsAndTriangulatesTheTargetFromThePoses)
{
    const Files& f = files();
    const std::string paPose = (f.dir.path() / "pa.json").string();
    const auto r = np::test::runCli({"register", "--image", f.ct, "--fluoro", f.fluoro, "--isocenter",
                                     triple(f.targetLps), "--out", paPose, "--json", "--threads", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    const json pose = json::parse(r.out);
    EXPECT_TRUE(pose["registered"].get<bool>());
    for (const char* key : {"similarity", "projectionMatrix", "poseLps", "registrationSeconds", "reason"})
        EXPECT_TRUE(pose.contains(key)) << key;
    EXPECT_EQ(pose["poseLps"].size(), 4u);
    // The target where the frame was made against where the pose projects it.
    const DetectorPixel drawn = f.pa.project(f.truth.apply(f.targetLps));
    EXPECT_NEAR(pose["targetPixel"][0].get<double>(), drawn.column, 1.5);
    EXPECT_NEAR(pose["targetPixel"][1].get<double>(), drawn.row, 1.5);
    EXPECT_TRUE(fs::exists(paPose));

    const std::string latPose = (f.dir.path() / "lat.json").string();
    const auto l = np::test::runCli({"register", "--image", f.ct, "--fluoro", f.lateral, "--isocenter",
                                     triple(f.targetLps), "--out", latPose, "--threads", "2"});
    ASSERT_EQ(l.exitCode, 0) << l.out << l.err;

    // Marks at the target's true pixels in both frames: the triangulated point is the CT's target.
    const DetectorPixel latDrawn = f.lat.project(f.truth.apply(f.targetLps));
    auto mark = [](const std::string& path, const DetectorPixel& p) {
        return path + ":" + std::to_string(p.column) + "," + std::to_string(p.row);
    };
    const auto t =
        np::test::runCli({"triangulate", "--view", mark(f.fluoro, drawn), "--view", mark(f.lateral, latDrawn),
                          "--pose1", paPose, "--pose2", latPose, "--json"});
    ASSERT_EQ(t.exitCode, 0) << t.err;
    const json point = json::parse(t.out);
    const Vec3 found{point["pointLps"][0].get<double>(), point["pointLps"][1].get<double>(),
                     point["pointLps"][2].get<double>()};
    EXPECT_LE(distance(found, f.targetLps), 1.5);
    EXPECT_FALSE(point["relativeToIsocenter"].get<bool>());
    // A pose file of another image is refused.
    EXPECT_EQ(np::test::runCli({"triangulate", "--view", mark(f.fluoro, drawn), "--view",
                                mark(f.lateral, latDrawn), "--pose1", latPose, "--pose2", paPose})
                  .exitCode,
              2);
}

TEST(RegisterCommand, AFlippedFrameIsNotRegisteredExitFour)
{
    const Files& f = files();
    const std::string out = (f.dir.path() / "flipped.json").string();
    const auto r = np::test::runCli({"register", "--image", f.ct, "--fluoro", f.flipped, "--isocenter",
                                     triple(f.targetLps), "--out", out, "--json", "--threads", "2"});
    EXPECT_EQ(r.exitCode, 4) << r.out << r.err;
    const json pose = json::parse(r.out);
    EXPECT_FALSE(pose["registered"].get<bool>());
    EXPECT_NE(pose["reason"].get<std::string>().find("not registered"), std::string::npos);
}

TEST(RegisterCommand, TheRealXaCineAgainstThePhantomFailsCleanly)
{
    NP_REQUIRE_REALDICOM();
    const Files& f = files();
    const std::string xa =
        (fs::path(np::test::realDicomDir()) / "08_xa/xa_96frames_jpegbaseline.dcm").string();
    const std::string out = (f.dir.path() / "real.json").string();
    // The header has angles only: the distances must be given.
    const auto missing = np::test::runCli(
        {"register", "--image", f.ct, "--fluoro", xa, "--isocenter", triple(f.targetLps), "--out", out});
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_NE(missing.err.find("--sid"), std::string::npos) << missing.err;
    // With assumed distances it runs, and a cardiac cine is no match for a lumbar phantom.
    const auto r = np::test::runCli({"register", "--image", f.ct,          "--fluoro",          xa,
                                     "--frame",  "10",      "--isocenter", triple(f.targetLps), "--sid",
                                     "1000",     "--sod",   "750",         "--pixel-spacing",   "0.3",
                                     "--out",    out,       "--json",      "--threads",         "2"});
    EXPECT_EQ(r.exitCode, 4) << r.out << r.err;
    const json pose = json::parse(r.out);
    EXPECT_FALSE(pose["registered"].get<bool>());
    EXPECT_EQ(pose["assumedGeometry"].size(), 3u);
}

TEST(RegisterCommand, LandmarksRefineTheStartAndBadOnesExitTwo)
{
    const Files& f = files();
    const std::string out = (f.dir.path() / "landmark.json").string();
    auto run = [&](std::vector<std::string> landmarks) {
        std::vector<std::string> args{
            "register",          "--image", f.ct, "--fluoro", f.fluoro,    "--isocenter",
            triple(f.targetLps), "--out",   out,  "--json",   "--threads", "2"};
        for (const std::string& l : landmarks) {
            args.push_back("--landmark");
            args.push_back(l);
        }
        return np::test::runCli(args);
    };
    const std::string point = triple(f.targetLps);
    for (const std::vector<std::string>& bad : {std::vector<std::string>{"100,200"},
                                                {"100:" + point},
                                                {"a,200:" + point},
                                                {"100,200:1,2"},
                                                {"9000,200:" + point},
                                                {"100,200:" + point, "300,200:1,2,3", "200,300:4,5,6"},
                                                {"100,200:" + point, "101,200:" + point}}) {
        const auto r = run(bad);
        EXPECT_EQ(r.exitCode, 2) << bad.front() << ": " << r.out << r.err;
        EXPECT_FALSE(r.err.empty());
    }
    EXPECT_FALSE(fs::exists(out));

    // The target marked where the frame shows it.
    const DetectorPixel drawn = f.pa.project(f.truth.apply(f.targetLps));
    const auto r = run({std::to_string(drawn.column) + "," + std::to_string(drawn.row) + ":" + point});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    const json pose = json::parse(r.out);
    ASSERT_EQ(pose["landmarks"].size(), 1u);
    EXPECT_NEAR(pose["landmarks"][0]["pixel"][0].get<double>(), drawn.column, 1e-3);
    EXPECT_NEAR(pose["targetPixel"][0].get<double>(), drawn.column, 1.5);
    EXPECT_NEAR(pose["targetPixel"][1].get<double>(), drawn.row, 1.5);
}

TEST(RegisterCommand, AFrameWithoutDistancesIsRegisteredWithFreeDistances)
{
    // The PA frame (made with SID 1000 mm and SOD 750 mm) with DistanceSourceToDetector,
    // DistanceSourceToPatient and EstimatedRadiographicMagnificationFactor removed by dcmodify: the
    // registration starts from SID 1000 and SOD 700 mm and registers both distances.
    const Files& f = files();
    const std::string bare = (f.dir.path() / "bare.dcm").string();
    fs::copy_file(f.fluoro, bare, fs::copy_options::overwrite_existing);
    const std::string strip = "dcmodify -nb -imt -e \"(0018,1110)\" -e \"(0018,1111)\" -e \"(0018,1114)\" \"" +
                              bare + "\" > /dev/null 2>&1";
    if (std::system(strip.c_str()) != 0)
        GTEST_SKIP() << "dcmodify (DCMTK's command-line tools) is not available to strip the distances";
    ASSERT_FALSE(loadProjectionImage(bare).geometry.sourceToDetectorMm.has_value());
    const std::string out = (f.dir.path() / "bare.json").string();
    const auto r = np::test::runCli({"register", "--image", f.ct, "--fluoro", bare, "--isocenter",
                                     triple(f.targetLps), "--out", out, "--json", "--threads", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    const json pose = json::parse(r.out);
    EXPECT_TRUE(pose["registered"].get<bool>());
    EXPECT_EQ(pose["distanceMode"].get<std::string>(), "free");
    ASSERT_EQ(pose["assumedGeometry"].size(), 1u);
    EXPECT_NE(pose["assumedGeometry"][0].get<std::string>().find("free parameters"), std::string::npos);
    // The target where the frame was made against where the pose projects it (3 px: 1.3 mm at the
    // isocentre), and the magnification SID / SOD = 1000 / 750 within 4 %.
    const DetectorPixel drawn = f.pa.project(f.truth.apply(f.targetLps));
    EXPECT_NEAR(pose["targetPixel"][0].get<double>(), drawn.column, 3.0);
    EXPECT_NEAR(pose["targetPixel"][1].get<double>(), drawn.row, 3.0);
    const double sid = pose["sourceToDetectorMm"].get<double>(), sod = pose["sourceToIsocenterMm"].get<double>();
    EXPECT_NEAR(sid / sod, 1000.0 / 750.0, 0.04 * 1000.0 / 750.0) << "SID " << sid << ", SOD " << sod;
    // With the distances given, they are used as given.
    const auto given = np::test::runCli({"register", "--image", f.ct, "--fluoro", bare, "--isocenter",
                                         triple(f.targetLps), "--sid", "1000", "--sod", "750", "--out", out,
                                         "--json", "--threads", "2"});
    ASSERT_EQ(given.exitCode, 0) << given.out << given.err;
    EXPECT_EQ(json::parse(given.out)["distanceMode"].get<std::string>(), "given");
    EXPECT_DOUBLE_EQ(json::parse(given.out)["sourceToIsocenterMm"].get<double>(), 750.0);
}
