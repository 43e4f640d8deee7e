// Presets: the shipped files load, bad files fail clearly, anatomical approach → LPS.

#include "needleplan/planning/Preset.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>

using namespace np;
using namespace np::planning;

TEST(Preset, UnknownNameAndMissingFileAreNotFound)
{
    try {
        loadPreset("no-such-preset");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
        EXPECT_NE(std::string(e.what()).find("lumbar-mbb"), std::string::npos); // lists the known ones
    }
    EXPECT_THROW(loadPreset("/nonexistent/preset.json"), Error);
}

TEST(Preset, MalformedPresetsAreCorruptData)
{
    const std::vector<std::string> bad = {
        "",
        "{",
        "[]",
        "{\"schema\": \"x\"}",
        "{\"schema\": \"needleplan.preset/1\", \"needle\": \"99G-1mm\"}",
        "{\"schema\": \"needleplan.preset/1\", \"approach\": {\"from\": \"above\"}}",
        "{\"schema\": \"needleplan.preset/1\", \"approach\": {\"windowDeg\": 0}}",
        "{\"schema\": \"needleplan.preset/1\", \"approach\": {\"obliqueDeg\": \"20\"}}",
        "{\"schema\": \"needleplan.preset/1\", \"structures\": [{\"class\": \"forbidden\"}]}",
        "{\"schema\": \"needleplan.preset/1\", \"structures\": [{\"match\": \"a\", \"class\": \"deadly\"}]}",
        "{\"schema\": \"needleplan.preset/1\", \"structures\": [{\"match\": \"a\", \"marginMm\": -2}]}",
    };
    for (const auto& text : bad) {
        try {
            parsePreset(text, "test.json");
            ADD_FAILURE() << "accepted: " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::CorruptData) << text;
            EXPECT_NE(std::string(e.what()).find("test.json"), std::string::npos);
        }
    }
    EXPECT_EQ(
        [&] {
            try {
                parsePreset("{\"schema\": \"needleplan.preset/9\"}", "x");
            } catch (const Error& e) {
                return e.code();
            }
            return ErrorCode::Internal;
        }(),
        ErrorCode::Unsupported);
}

TEST(Preset, EveryShippedPresetLoadsAndRoundTrips)
{
    const auto names = builtInPresetNames();
    for (const char* expected : {"lumbar-mbb", "l5-dorsal-ramus", "lumbar-rfa-parallel", "lumbar-facet-ia",
                                 "cervical-mbb-lateral", "lumbar-tfesi"})
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    for (const auto& name : names) {
        const Preset preset = loadPreset(name);
        EXPECT_EQ(preset.name, name);
        EXPECT_FALSE(preset.structures.empty());
        const Preset again = parsePreset(presetToJson(preset), name);
        EXPECT_EQ(presetToJson(again), presetToJson(preset));
    }
    EXPECT_EQ(loadPreset("generic").windowDeg, 90.0);
}

TEST(Preset, LoadsAnEditedCopyFromAPath)
{
    test::TempDir dir;
    Preset preset = loadPreset("lumbar-mbb");
    preset.windowDeg = 12.0;
    const auto path = (dir.path() / "mine.json").string();
    std::ofstream(path) << presetToJson(preset);
    EXPECT_DOUBLE_EQ(loadPreset(path).windowDeg, 12.0);
}

TEST(Preset, AnatomicalApproachToLps)
{
    Preset p;
    p.approachFrom = "posterior";
    p.obliqueDeg = 20.0;
    const double r = 20.0 * M_PI / 180.0;
    // Right-sided target (−1): the entry is posterior and to the right (−x).
    Vec3 v = idealOutwardDirectionLps(p, -1);
    EXPECT_NEAR(v.x, -std::sin(r), 1e-12);
    EXPECT_NEAR(v.y, std::cos(r), 1e-12);
    EXPECT_NEAR(v.z, 0.0, 1e-12);
    // Parallel RFA: entry 42° caudal (−z), needle travels cranially.
    p.entryCraniocaudalDeg = -42.0;
    v = idealOutwardDirectionLps(p, 1);
    EXPECT_NEAR(v.z, -std::sin(42.0 * M_PI / 180.0), 1e-12);
    EXPECT_GT(v.x, 0.0);
    p = Preset{};
    p.approachFrom = "lateral";
    v = idealOutwardDirectionLps(p, 1);
    EXPECT_NEAR(v.x, 1.0, 1e-12);
    p.approachFrom = "nearest-skin";
    v = idealOutwardDirectionLps(p, 1, {0, 0, 2});
    EXPECT_NEAR(v.z, 1.0, 1e-12);
}

TEST(Preset, RulesOverrideDefaults)
{
    std::vector<StructureSpec> specs{defaultStructureSpec("nerve_root_L4_left", 1),
                                     defaultStructureSpec("aorta", 2)};
    Preset p;
    p.structures = {{"nerve_root_*", StructureClass::Forbidden, 3.5},
                    {"aorta", StructureClass::Caution, 1.0}};
    applyPresetRules(p, specs);
    EXPECT_DOUBLE_EQ(specs[0].marginMm, 3.5);
    EXPECT_EQ(specs[1].structureClass, StructureClass::Caution);
}
