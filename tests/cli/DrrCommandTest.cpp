// needleplan-cli drr and the projection listing of info, end to end, on a small CT of a water
// sphere (expected path lengths are chords through the sphere) and a hand-made plan.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/PlanDocument.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;
using np::Mat3;
using np::Vec3;
using namespace np::imaging;

namespace {

const Vec3 kSphereCenterLps{5.0, -8.0, 12.0};
constexpr double kSphereRadiusMm = 20.0;

/// Air with a water sphere (partial volumes from 4³ subsamples), 0.9 × 1.1 × 1.4 mm, turned 15°.
Volume sphereCt()
{
    Geometry g;
    g.size = {70, 60, 48};
    g.spacing = {0.9, 1.1, 1.4};
    const double a = 15.0 * M_PI / 180.0;
    g.directionLps =
        Mat3::fromColumns({std::cos(a), std::sin(a), 0}, {-std::sin(a), std::cos(a), 0}, {0, 0, 1});
    g.originLps = kSphereCenterLps - g.lpsFromIjkLinear() * Vec3{34.5, 29.5, 23.5};
    Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                int inside = 0;
                for (int w = 0; w < 4; ++w)
                    for (int v = 0; v < 4; ++v)
                        for (int u = 0; u < 4; ++u) {
                            const Vec3 p =
                                g.lpsFromIjk(Vec3{i + (u - 1.5) / 4, j + (v - 1.5) / 4, k + (w - 1.5) / 4});
                            inside += distance(p, kSphereCenterLps) < kSphereRadiusMm ? 1 : 0;
                        }
                ct.at(i, j, k) = static_cast<float>(-1000.0 + 1000.0 * inside / 64.0);
            }
    return ct;
}

std::string writeSphereCt(const fs::path& folder)
{
    const std::string path = (folder / "sphere.nrrd").string();
    writeVolumeNrrd(sphereCt(), path);
    return path;
}

std::string quoted(const std::string& text)
{
    return "'" + text + "'";
}

/// The value of `keyword` at the top level of `path` as DCMTK's dcmdump prints it ("" for an
/// empty value, "<absent>" when the attribute is not there).
std::string dumpedValue(const std::string& path, const std::string& keyword)
{
    FILE* pipe = ::popen(("dcmdump -q -Un +P " + keyword + " " + quoted(path) + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
        return "<dcmdump failed>";
    std::string out;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe))
        out += buffer;
    ::pclose(pipe);
    const auto first = out.find('\n');
    const std::string line = out.substr(0, first);
    if (line.empty())
        return "<absent>";
    if (line.find("(no value available)") != std::string::npos)
        return "";
    const auto open = line.find('['), close = line.rfind(']');
    return open == std::string::npos || close == std::string::npos ? line
                                                                   : line.substr(open + 1, close - open - 1);
}

json parse(const np::test::CliResult& r)
{
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return json::parse(r.out);
}

/// Largest difference in pixels between two JSON projection matrices on 20 points near `center`.
double worstDifference(const json& a, const ProjectionMatrix& b, const Vec3& center)
{
    ProjectionMatrix m;
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 4; ++c)
            m(r, c) = a[r][c].get<double>();
    double worst = 0.0;
    for (int n = 0; n < 20; ++n) {
        const Vec3 p = center + Vec3{std::sin(n * 1.3) * 60, std::cos(n * 0.7) * 60, std::sin(n * 2.1) * 60};
        const DetectorPixel u = m.project(p), v = b.project(p);
        worst = std::max(worst, std::hypot(u.column - v.column, u.row - v.row));
    }
    return worst;
}

} // namespace

TEST(DrrCommand, RejectsBadArguments)
{
    np::test::TempDir dir;
    const std::string ct = writeSphereCt(dir.path());
    const std::string out = (dir.path() / "a.nrrd").string();
    using Args = std::vector<std::string>;
    for (const Args& args :
         {Args{"drr", "--image", ct, "--primary", "0", "--secondary", "0", "--out",
               (dir.path() / "a.jpg").string()},
          Args{"drr", "--image", ct, "--primary", "0", "--out", out},
          Args{"drr", "--image", ct, "--out", out},
          Args{"drr", "--image", (dir.path() / "absent.nrrd").string(), "--primary", "0", "--secondary", "0",
               "--out", out},
          Args{"drr", "--image", ct, "--primary", "0", "--secondary", "0", "--sweep-primary", "1:2", "--out",
               out},
          Args{"drr", "--image", ct, "--primary", "0", "--secondary", "0", "--sid", "500", "--out", out},
          Args{"drr", "--image", ct, "--primary", "0", "--secondary", "0", "--size", "0x5", "--out", out}}) {
        const auto r = np::test::runCli(args);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_FALSE(r.err.empty());
    }
    EXPECT_FALSE(fs::exists(out));
}

TEST(DrrCommand, NrrdHoldsPathLengthsAndJsonTheGeometry)
{
    np::test::TempDir dir;
    const std::string ct = writeSphereCt(dir.path());
    const std::string out = (dir.path() / "drr.nrrd").string();
    const json j = parse(
        np::test::runCli({"drr", "--image", ct, "--primary", "30", "--secondary", "-10", "--isocenter",
                          "5,-8,12", "--size", "65x49", "--detector-mm", "130x98", "--out", out, "--json"}));
    for (const char* key : {"projectionMatrix", "sourceLps", "isocenterLps", "pixelSpacingMm"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_DOUBLE_EQ(j["pixelSpacingMm"]["detector"][1].get<double>(), 2.0);
    EXPECT_DOUBLE_EQ(j["pixelSpacingMm"]["isocenter"][1].get<double>(), 1.5);
    // The isocentre lands on the centre pixel (32, 24), 750 mm from the source.
    CArmParameters p;
    p.primaryDeg = 30;
    p.secondaryDeg = -10;
    p.isocenterLps = kSphereCenterLps;
    p.columns = 65;
    p.rows = 49;
    p.columnSpacingMm = 2.0;
    p.rowSpacingMm = 2.0;
    const CArmGeometry view(p);
    EXPECT_LT(worstDifference(j["projectionMatrix"], view.projectionMatrix(), kSphereCenterLps), 1e-6);
    EXPECT_NEAR(distance(Vec3{j["sourceLps"][0], j["sourceLps"][1], j["sourceLps"][2]}, kSphereCenterLps),
                750.0, 1e-6);
    // The central ray crosses the whole sphere: 40 mm of water. A ray 10 mm (at the isocentre)
    // off centre crosses 2·sqrt(20² − d²), d its closest approach to the centre.
    const Volume drr = loadVolume(out);
    ASSERT_EQ(drr.geometry().size[0], 65);
    ASSERT_EQ(drr.geometry().size[1], 49);
    EXPECT_NEAR(drr.at(32, 24, 0), 2 * kSphereRadiusMm, 0.01 * 2 * kSphereRadiusMm);
    const RayLps ray = view.ray({38.0, 24.0}); // 6 pixels = 9 mm at the isocentre
    const Vec3 toCenter = kSphereCenterLps - ray.originLps;
    const double miss = norm(toCenter - ray.directionLps * dot(toCenter, ray.directionLps));
    const double chord = 2 * std::sqrt(kSphereRadiusMm * kSphereRadiusMm - miss * miss);
    EXPECT_NEAR(drr.at(38, 24, 0), chord, 0.01 * chord);
    EXPECT_NEAR(drr.at(0, 0, 0), 0.0, 1e-6);
}

TEST(DrrCommand, XaSweepLoadsBackWithTheSameMatricesAndInfoListsIt)
{
    np::test::TempDir dir;
    const std::string ct = writeSphereCt(dir.path());
    const std::string out = (dir.path() / "sweep.dcm").string();
    const json j =
        parse(np::test::runCli({"drr", "--image", ct, "--primary", "0", "--secondary", "15",
                                "--sweep-primary", "-60:60:4", "--size", "48x40", "--out", out, "--json"}));
    ASSERT_EQ(j["frames"].size(), 4u);
    EXPECT_GT(j["framesPerSecond"].get<double>(), 0.0);
    const Vec3 iso{j["isocenterLps"][0], j["isocenterLps"][1], j["isocenterLps"][2]};
    const ProjectionImage image = loadProjectionImage(out);
    ASSERT_EQ(image.frameCount, 4);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::Full);
    EXPECT_EQ(image.geometry.patientPosition, "HFS"); // a NRRD CT carries no position: HFS is assumed
    for (int f = 0; f < 4; ++f) {
        EXPECT_NEAR(*image.geometry.frames[f].primaryDeg, -60.0 + 40.0 * f, 1e-9);
        EXPECT_LE(worstDifference(j["frames"][f]["projectionMatrix"],
                                  image.frameView(f, iso).projectionMatrix(), iso),
                  0.1);
    }
    const json info = parse(np::test::runCli({"info", out, "--json"}));
    ASSERT_EQ(info["series"].size(), 1u);
    const json& entry = info["series"][0];
    EXPECT_EQ(entry["kind"], "projection");
    EXPECT_EQ(entry["frames"], 4);
    const json& g = entry["geometry"];
    EXPECT_EQ(g["confidence"], "full");
    EXPECT_TRUE(g["missing"].empty());
    EXPECT_DOUBLE_EQ(g["primaryDeg"].get<double>(), -60.0);
    EXPECT_DOUBLE_EQ(g["secondaryDeg"].get<double>(), 15.0);
    EXPECT_DOUBLE_EQ(g["sidMm"].get<double>(), 1000.0);
    EXPECT_DOUBLE_EQ(g["sodMm"].get<double>(), 750.0);
    EXPECT_DOUBLE_EQ(g["detectorPixelSpacingMm"][0].get<double>(), 300.0 / 40);
    EXPECT_DOUBLE_EQ(g["isocenterPixelSpacingMm"][1].get<double>(), 300.0 / 48 * 0.75);
}

TEST(DrrCommand, PlanViewsShowTheNeedleAsPointAndAtFullLength)
{
    np::test::TempDir dir;
    const std::string ct = writeSphereCt(dir.path());
    np::planning::Plan plan;
    plan.image.path = ct;
    plan.image.patientPosition = "HFP";
    plan.needle = *np::planning::findNeedle("22G-90mm");
    np::planning::PlanTarget target;
    target.name = "sphere centre";
    target.targetLps = kSphereCenterLps;
    np::planning::PlannedTrajectory trajectory;
    trajectory.rank = 1;
    trajectory.trajectory.entryLps = kSphereCenterLps + Vec3{-25.0, 60.0, 15.0};
    trajectory.trajectory.targetLps = kSphereCenterLps;
    trajectory.trajectory.needle = plan.needle;
    target.trajectories.push_back(trajectory);
    plan.targets.push_back(target);
    const std::string planPath = (dir.path() / "plan.json").string();
    np::planning::savePlan(plan, planPath);

    const json bullseye =
        parse(np::test::runCli({"drr", "--image", ct, "--plan", planPath, "--view", "bullseye", "--out",
                                (dir.path() / "b.png").string(), "--json"}));
    EXPECT_LT(std::hypot(bullseye["entryPixel"][0].get<double>() - bullseye["targetPixel"][0].get<double>(),
                         bullseye["entryPixel"][1].get<double>() - bullseye["targetPixel"][1].get<double>()),
              0.5);
    EXPECT_NEAR(bullseye["targetPixel"][0].get<double>(), 255.5, 1e-6);
    EXPECT_TRUE(fs::exists(dir.path() / "b.png"));
    const json progression =
        parse(np::test::runCli({"drr", "--image", ct, "--plan", planPath, "--view", "progression", "--out",
                                (dir.path() / "p.png").string(), "--json"}));
    const double lengthPixels =
        std::hypot(progression["entryPixel"][0].get<double>() - progression["targetPixel"][0].get<double>(),
                   progression["entryPixel"][1].get<double>() - progression["targetPixel"][1].get<double>());
    const double lengthMm = norm(Vec3{-25.0, 60.0, 15.0});
    EXPECT_NEAR(lengthPixels * progression["pixelSpacingMm"]["isocenter"][1].get<double>(), lengthMm,
                0.1 * lengthMm);
}

TEST(DrrCommand, EnhancedXaSweepCarriesTheCtPatientAndStudyAndLoadsBack)
{
    if (std::system("command -v dcmdump >/dev/null 2>&1 && command -v dcmodify >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "dcmdump/dcmodify (dcmtk) is not installed";
    np::test::TempDir dir;
    // The sphere CT as a DICOM series (prone) with a full patient and study.
    DicomWriteOptions write;
    write.patientPosition = "HFP";
    write.patientName = "Sphere^Water";
    write.patientId = "NP-0815";
    write.seriesDescription = "sphere";
    const auto slices = writeDicomSeries(sphereCt(), (dir.path() / "ct").string(), write);
    std::string files;
    for (const auto& slice : slices)
        files += " " + quoted(slice);
    ASSERT_EQ(
        std::system(("dcmodify -nb -q -i '(0010,0030)=19610229' -i '(0010,0040)=F' -i '(0020,0010)=S42' "
                     "-i '(0008,0050)=ACC-991' -i '(0008,0020)=20240117' -i '(0008,0030)=081530' "
                     "-i '(0008,0090)=Doe^John'" +
                     files)
                        .c_str()),
        0);
    const std::string ctFolder = (dir.path() / "ct").string();
    const std::string out = (dir.path() / "sweep.dcm").string();
    // A kind that does not exist is bad input, and nothing is written.
    const auto bad = np::test::runCli({"drr", "--image", ctFolder, "--primary", "0", "--secondary", "0",
                                       "--dicom-kind", "enhanced", "--out", out});
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("--dicom-kind"), std::string::npos) << bad.err;
    EXPECT_FALSE(fs::exists(out));

    const json j = parse(np::test::runCli({"drr", "--image", ctFolder, "--primary", "170", "--secondary",
                                           "-12", "--sweep-primary", "150:210:4", "--size", "48x40",
                                           "--dicom-kind", "enhanced-xa", "--out", out, "--json"}));
    ASSERT_EQ(j["frames"].size(), 4u);
    EXPECT_EQ(dumpedValue(out, "SOPClassUID"), "1.2.840.10008.5.1.4.1.1.12.1.1");
    for (const char* keyword :
         {"PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID",
          "AccessionNumber", "StudyDate", "StudyTime", "ReferringPhysicianName", "FrameOfReferenceUID"})
        EXPECT_EQ(dumpedValue(out, keyword), dumpedValue(slices.front(), keyword)) << keyword;
    EXPECT_EQ(dumpedValue(out, "PatientName"), "Sphere^Water");
    EXPECT_EQ(dumpedValue(out, "PatientBirthDate"), "19610229");
    EXPECT_NE(dumpedValue(out, "SeriesInstanceUID"), dumpedValue(slices.front(), "SeriesInstanceUID"));

    const Vec3 iso{j["isocenterLps"][0], j["isocenterLps"][1], j["isocenterLps"][2]};
    const ProjectionImage image = loadProjectionImage(out);
    EXPECT_TRUE(image.enhanced);
    ASSERT_EQ(image.frameCount, 4);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::Full);
    EXPECT_EQ(image.geometry.patientPosition, "HFP");
    for (int f = 0; f < 4; ++f) {
        EXPECT_NEAR(*image.geometry.frames[f].primaryDeg, std::remainder(150.0 + 20.0 * f, 360.0), 1e-9);
        EXPECT_NEAR(*image.geometry.frames[f].secondaryDeg, -12.0, 1e-9);
        EXPECT_LE(worstDifference(j["frames"][f]["projectionMatrix"],
                                  image.frameView(f, iso).projectionMatrix(), iso),
                  0.1);
    }
    // The plain XA (the default kind) carries the same patient and study.
    const std::string plain = (dir.path() / "plain.dcm").string();
    parse(np::test::runCli(
        {"drr", "--image", ctFolder, "--primary", "0", "--secondary", "0", "--out", plain, "--json"}));
    EXPECT_EQ(dumpedValue(plain, "SOPClassUID"), "1.2.840.10008.5.1.4.1.1.12.1");
    for (const char* keyword :
         {"PatientID", "PatientSex", "StudyInstanceUID", "AccessionNumber", "StudyDate"})
        EXPECT_EQ(dumpedValue(plain, keyword), dumpedValue(slices.front(), keyword)) << keyword;
}
