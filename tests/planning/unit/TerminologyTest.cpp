// The terminology table: classification by code, exact name and fallback; presets that may not
// downgrade forbidden structures by glob; the full TotalSegmentator v2 class list. Expected classes
// are written here by hand from the anatomy (DOMAIN.md defaults), not read from the table.

#include "needleplan/planning/Terminology.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/planning/Preset.h"
#include "needleplan/planning/Structure.h"

#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

using namespace np;
using namespace np::planning;

namespace {

// TotalSegmentator v2, class map 'total' of totalsegmentator/map_to_binary.py, labels 1..117.
const std::vector<std::string> kTotalSegmentatorV2 = {"spleen",
                                                      "kidney_right",
                                                      "kidney_left",
                                                      "gallbladder",
                                                      "liver",
                                                      "stomach",
                                                      "pancreas",
                                                      "adrenal_gland_right",
                                                      "adrenal_gland_left",
                                                      "lung_upper_lobe_left",
                                                      "lung_lower_lobe_left",
                                                      "lung_upper_lobe_right",
                                                      "lung_middle_lobe_right",
                                                      "lung_lower_lobe_right",
                                                      "esophagus",
                                                      "trachea",
                                                      "thyroid_gland",
                                                      "small_bowel",
                                                      "duodenum",
                                                      "colon",
                                                      "urinary_bladder",
                                                      "prostate",
                                                      "kidney_cyst_left",
                                                      "kidney_cyst_right",
                                                      "sacrum",
                                                      "vertebrae_S1",
                                                      "vertebrae_L5",
                                                      "vertebrae_L4",
                                                      "vertebrae_L3",
                                                      "vertebrae_L2",
                                                      "vertebrae_L1",
                                                      "vertebrae_T12",
                                                      "vertebrae_T11",
                                                      "vertebrae_T10",
                                                      "vertebrae_T9",
                                                      "vertebrae_T8",
                                                      "vertebrae_T7",
                                                      "vertebrae_T6",
                                                      "vertebrae_T5",
                                                      "vertebrae_T4",
                                                      "vertebrae_T3",
                                                      "vertebrae_T2",
                                                      "vertebrae_T1",
                                                      "vertebrae_C7",
                                                      "vertebrae_C6",
                                                      "vertebrae_C5",
                                                      "vertebrae_C4",
                                                      "vertebrae_C3",
                                                      "vertebrae_C2",
                                                      "vertebrae_C1",
                                                      "heart",
                                                      "aorta",
                                                      "pulmonary_vein",
                                                      "brachiocephalic_trunk",
                                                      "subclavian_artery_right",
                                                      "subclavian_artery_left",
                                                      "common_carotid_artery_right",
                                                      "common_carotid_artery_left",
                                                      "brachiocephalic_vein_left",
                                                      "brachiocephalic_vein_right",
                                                      "atrial_appendage_left",
                                                      "superior_vena_cava",
                                                      "inferior_vena_cava",
                                                      "portal_vein_and_splenic_vein",
                                                      "iliac_artery_left",
                                                      "iliac_artery_right",
                                                      "iliac_vena_left",
                                                      "iliac_vena_right",
                                                      "humerus_left",
                                                      "humerus_right",
                                                      "scapula_left",
                                                      "scapula_right",
                                                      "clavicula_left",
                                                      "clavicula_right",
                                                      "femur_left",
                                                      "femur_right",
                                                      "hip_left",
                                                      "hip_right",
                                                      "spinal_cord",
                                                      "gluteus_maximus_left",
                                                      "gluteus_maximus_right",
                                                      "gluteus_medius_left",
                                                      "gluteus_medius_right",
                                                      "gluteus_minimus_left",
                                                      "gluteus_minimus_right",
                                                      "autochthon_left",
                                                      "autochthon_right",
                                                      "iliopsoas_left",
                                                      "iliopsoas_right",
                                                      "brain",
                                                      "skull",
                                                      "rib_left_1",
                                                      "rib_left_2",
                                                      "rib_left_3",
                                                      "rib_left_4",
                                                      "rib_left_5",
                                                      "rib_left_6",
                                                      "rib_left_7",
                                                      "rib_left_8",
                                                      "rib_left_9",
                                                      "rib_left_10",
                                                      "rib_left_11",
                                                      "rib_left_12",
                                                      "rib_right_1",
                                                      "rib_right_2",
                                                      "rib_right_3",
                                                      "rib_right_4",
                                                      "rib_right_5",
                                                      "rib_right_6",
                                                      "rib_right_7",
                                                      "rib_right_8",
                                                      "rib_right_9",
                                                      "rib_right_10",
                                                      "rib_right_11",
                                                      "rib_right_12",
                                                      "sternum",
                                                      "costal_cartilages"};

// The v2 classes that are vessels (forbidden 3 mm).
const std::set<std::string> kVessels = {"aorta",
                                        "pulmonary_vein",
                                        "brachiocephalic_trunk",
                                        "subclavian_artery_right",
                                        "subclavian_artery_left",
                                        "common_carotid_artery_right",
                                        "common_carotid_artery_left",
                                        "brachiocephalic_vein_left",
                                        "brachiocephalic_vein_right",
                                        "superior_vena_cava",
                                        "inferior_vena_cava",
                                        "portal_vein_and_splenic_vein",
                                        "iliac_artery_left",
                                        "iliac_artery_right",
                                        "iliac_vena_left",
                                        "iliac_vena_right"};

// The v2 classes that are organs, viscera or lesions in them (forbidden 5 mm).
const std::set<std::string> kOrgans = {"spleen",
                                       "kidney_right",
                                       "kidney_left",
                                       "gallbladder",
                                       "liver",
                                       "stomach",
                                       "pancreas",
                                       "adrenal_gland_right",
                                       "adrenal_gland_left",
                                       "lung_upper_lobe_left",
                                       "lung_lower_lobe_left",
                                       "lung_upper_lobe_right",
                                       "lung_middle_lobe_right",
                                       "lung_lower_lobe_right",
                                       "esophagus",
                                       "trachea",
                                       "thyroid_gland",
                                       "small_bowel",
                                       "duodenum",
                                       "colon",
                                       "urinary_bladder",
                                       "prostate",
                                       "kidney_cyst_left",
                                       "kidney_cyst_right",
                                       "heart",
                                       "atrial_appendage_left",
                                       "brain"};

bool isBoneName(const std::string& n)
{
    for (const char* prefix : {"vertebrae_", "rib_", "humerus_", "scapula_", "clavicula_", "femur_", "hip_"})
        if (n.rfind(prefix, 0) == 0)
            return true;
    return n == "sacrum" || n == "skull" || n == "sternum" || n == "costal_cartilages";
}

imaging::Segment segmentWithCode(const std::string& name, const std::string& scheme, const std::string& value,
                                 const std::string& meaning)
{
    imaging::Segment segment;
    segment.name = name;
    segment.labelValue = 4;
    segment.typeCode = {scheme, value, meaning};
    return segment;
}

} // namespace

TEST(Terminology, BuiltInTableIsConsistentAndNamesItsSources)
{
    const Terminology& table = Terminology::builtIn();
    EXPECT_GE(table.entries().size(), 200u);
    EXPECT_GE(table.nameCount(), 380u);
    EXPECT_GE(table.codeCount(), 120u);
    for (const char* source :
         {"TotalSegmentator v1", "TotalSegmentator v2", "TotalSegmentator SNOMED mapping",
          "3D Slicer terminology", "NeedlePlan phantom"})
        EXPECT_TRUE(table.sources().count(source)) << source;
    for (const auto& entry : table.entries())
        EXPECT_NE(table.group(entry.group), nullptr) << entry.name;
}

TEST(Terminology, RejectsMalformedOrContradictoryTables)
{
    EXPECT_THROW(Terminology::parse("{not json", "t.json"), Error);
    EXPECT_THROW(Terminology::parse(R"({"schema": "other/1"})", "t.json"), Error);
    const std::string groups =
        R"("groups": {"bone": {"class": "obstacle", "marginMm": 0}, "vessel": {"class": "forbidden", "marginMm": 3}})";
    EXPECT_THROW(Terminology::parse(R"({"schema": "needleplan.terminology/1", )" + groups +
                                        R"(, "entries": [{"name": "a", "group": "nerve"}]})",
                                    "t.json"),
                 Error); // unknown group
    EXPECT_THROW(
        Terminology::parse(R"({"schema": "needleplan.terminology/1", )" + groups +
                               R"(, "entries": [{"name": "a", "group": "bone", "type": ["SCT", "1", "x"]},
                                          {"name": "b", "group": "vessel", "type": ["SCT", "1", "x"]}]})",
                           "t.json"),
        Error); // one code, two groups
    EXPECT_THROW(Terminology::parse(R"({"schema": "needleplan.terminology/1", )" + groups +
                                        R"(, "entries": [{"name": "Iliac vein", "group": "vessel"},
                                          {"name": "iliac_vein", "group": "bone"}]})",
                                    "t.json"),
                 Error); // one name (after normalisation), two groups
    try {
        Terminology::parse(
            R"({"schema": "needleplan.terminology/1", "groups": {"x": {"class": "sharp", "marginMm": 1}}, "entries": []})",
            "table.json");
        FAIL() << "an unknown class must be refused";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("sharp"), std::string::npos) << e.what();
    }
}

TEST(Terminology, EveryTotalSegmentatorV2ClassIsNamedWithTheRightClass)
{
    ASSERT_EQ(kTotalSegmentatorV2.size(), 117u);
    for (const std::string& name : kTotalSegmentatorV2) {
        const StructureSpec spec = defaultStructureSpec(name, 1);
        EXPECT_EQ(spec.rule, "name: " + normalizedStructureName(name)) << name;
        if (kVessels.count(name)) {
            EXPECT_EQ(spec.structureClass, StructureClass::Forbidden) << name;
            EXPECT_DOUBLE_EQ(spec.marginMm, 3.0) << name;
        } else if (kOrgans.count(name)) {
            EXPECT_EQ(spec.structureClass, StructureClass::Forbidden) << name;
            EXPECT_DOUBLE_EQ(spec.marginMm, 5.0) << name;
        } else if (name == "spinal_cord") {
            EXPECT_EQ(spec.structureClass, StructureClass::Forbidden) << name;
            EXPECT_DOUBLE_EQ(spec.marginMm, 3.0) << name;
        } else if (isBoneName(name)) {
            EXPECT_EQ(spec.structureClass, StructureClass::Obstacle) << name;
        } else if (name.rfind("iliopsoas", 0) == 0) {
            EXPECT_EQ(spec.structureClass, StructureClass::Caution) << name;
        } else if (name.rfind("gluteus", 0) == 0 || name.rfind("autochthon", 0) == 0) {
            EXPECT_EQ(spec.structureClass, StructureClass::Ignored) << name;
        } else {
            ADD_FAILURE() << name << " has no expectation";
        }
    }
}

TEST(Terminology, TheFaultsSeenOnARealCtAreGone)
{
    const StructureSpec vein = defaultStructureSpec("iliac_vena_left", 1);
    EXPECT_EQ(vein.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(vein.marginMm, 3.0);
    EXPECT_EQ(vein.rule, "name: iliac_vena_left");
    for (const char* bone : {"hip_left", "femur_left", "hip_right", "femur_right"})
        EXPECT_EQ(defaultStructureSpec(bone, 1).structureClass, StructureClass::Obstacle) << bone;
    for (const char* organ : {"duodenum", "stomach"}) {
        EXPECT_EQ(defaultStructureSpec(organ, 1).structureClass, StructureClass::Forbidden) << organ;
        EXPECT_DOUBLE_EQ(defaultStructureSpec(organ, 1).marginMm, 5.0) << organ;
    }
    for (const char* muscle : {"autochthon_left", "autochthon_right"})
        EXPECT_EQ(defaultStructureSpec(muscle, 1).structureClass, StructureClass::Ignored) << muscle;
}

TEST(Terminology, TheCodeDecidesBeforeTheName)
{
    std::vector<std::string> warnings;
    // Codes as TotalSegmentator writes them into DICOM SEG (totalsegmentator_snomed_mapping.csv).
    StructureSpec spec =
        classifySegment(segmentWithCode("Segment_3", "SCT", "46027005", "Common iliac vein"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(spec.marginMm, 3.0);
    EXPECT_EQ(spec.rule, "terminology: SNOMED 46027005 (Common iliac vein)");
    EXPECT_EQ(spec.name, "Segment_3");
    EXPECT_EQ(spec.labelValue, 4);
    // A misleading name loses against the code.
    spec = classifySegment(segmentWithCode("bone_thing", "SCT", "15825003", "Aorta"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Forbidden);
    spec = classifySegment(segmentWithCode("x", "SCT", "29836001", "Hip"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Obstacle);
    spec = classifySegment(segmentWithCode("x", "SCT", "38848004", "Duodenum"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(spec.marginMm, 5.0);
    spec = classifySegment(segmentWithCode("x", "SCT", "2748008", "Spinal cord"), &warnings);
    EXPECT_DOUBLE_EQ(spec.marginMm, 3.0);
    spec = classifySegment(segmentWithCode("x", "SCT", "244849004", "Deep muscle of back"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Ignored);
    EXPECT_TRUE(warnings.empty());
    // A generic code (our own SEG writer's Tissue) carries no class: the name decides, silently.
    spec = classifySegment(segmentWithCode("nerve_root_L4_left", "SCT", "85756007", "Tissue"), &warnings);
    EXPECT_EQ(spec.rule, "name: nerve_root_l4_left");
    EXPECT_TRUE(warnings.empty());
}

TEST(Terminology, AnUnknownCodeFallsBackToTheNameWithAWarning)
{
    std::vector<std::string> warnings;
    StructureSpec spec =
        classifySegment(segmentWithCode("kidney_left", "SCT", "999999999", "Made up"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Forbidden);
    EXPECT_EQ(spec.rule, "name: kidney_left");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("999999999"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("kidney_left"), std::string::npos) << warnings[0];
    // Another coding scheme (legacy SNOMED RT) is not looked up either.
    spec = classifySegment(segmentWithCode("Nerve root", "SRT", "T-A2000", "Nerve"), &warnings);
    EXPECT_EQ(spec.structureClass, StructureClass::Forbidden);
    EXPECT_EQ(spec.rule, "fallback: contains 'nerve'");
    EXPECT_EQ(warnings.size(), 2u);
}

TEST(Terminology, RtStructInterpretedTypes)
{
    imaging::Segment segment;
    segment.name = "BODY_CONTOUR_1";
    segment.rtInterpretedType = "EXTERNAL";
    // "body" would also be ignored by the fallback; the interpreted type decides first.
    EXPECT_EQ(classifySegment(segment).rule, "terminology: RTSTRUCT EXTERNAL");
    EXPECT_EQ(classifySegment(segment).structureClass, StructureClass::Ignored);
    segment.name = "OAR_7";
    segment.rtInterpretedType = "ORGAN";
    EXPECT_EQ(classifySegment(segment).structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(classifySegment(segment).marginMm, 5.0);
    segment.rtInterpretedType = "avoidance";
    EXPECT_EQ(classifySegment(segment).structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(classifySegment(segment).marginMm, 3.0);
    segment.name = "PTV_lesion";
    segment.rtInterpretedType = "PTV";
    EXPECT_EQ(classifySegment(segment).structureClass, StructureClass::Target);
    // An ORGAN whose name says bone keeps the name's class; an exact name beats the type.
    segment.name = "Femur_L_bone";
    segment.rtInterpretedType = "ORGAN";
    EXPECT_EQ(classifySegment(segment).structureClass, StructureClass::Obstacle);
    segment.name = "aorta";
    segment.rtInterpretedType = "EXTERNAL";
    EXPECT_EQ(classifySegment(segment).structureClass, StructureClass::Forbidden);
}

TEST(Terminology, NamesFromOtherToolsAreNormalised)
{
    EXPECT_EQ(normalizedStructureName("  Spinal Cord "), "spinal_cord");
    EXPECT_EQ(normalizedStructureName("spinal-cord"), "spinal_cord");
    EXPECT_EQ(normalizedStructureName("Lung__upper.lobe"), "lung_upper_lobe");
    EXPECT_EQ(defaultStructureSpec("Spinal cord", 1).rule, "name: spinal_cord");
    EXPECT_EQ(defaultStructureSpec("left kidney", 1).structureClass, StructureClass::Forbidden);
    EXPECT_EQ(defaultStructureSpec("Left common iliac vein", 1).structureClass, StructureClass::Forbidden);
    EXPECT_EQ(defaultStructureSpec("Vertebral artery", 1).structureClass, StructureClass::Forbidden);
    EXPECT_EQ(defaultStructureSpec("Dura mater", 1).structureClass, StructureClass::Forbidden);
    EXPECT_EQ(defaultStructureSpec("Body fat", 1).structureClass, StructureClass::Ignored);
}

TEST(Terminology, FallbackSaysWhichWordMatchedAndNeverMakesAVesselBone)
{
    EXPECT_EQ(defaultStructureSpec("my_nerve_root_L2", 1).rule, "fallback: contains 'nerve'");
    EXPECT_EQ(defaultStructureSpec("L2_root_left", 1).rule, "fallback: contains 'root'");
    EXPECT_EQ(defaultStructureSpec("xyz_7", 1).rule, kNoRuleMatched);
    EXPECT_EQ(defaultStructureSpec("xyz_7", 1).structureClass, StructureClass::Caution);
    for (const char* vessel : {"iliac_vena_x", "internal_iliac_vein_2", "iliac_venous_plexus_thing",
                               "sacral_artery", "vertebral_artery_segment", "rib_vessel"}) {
        const StructureSpec spec = defaultStructureSpec(vessel, 1);
        EXPECT_NE(spec.structureClass, StructureClass::Obstacle) << vessel;
        EXPECT_NE(spec.structureClass, StructureClass::Caution) << vessel;
    }
    for (const char* organ : {"bowel_loop_near_sacrum", "hip_region_colon", "pelvic_kidney"})
        EXPECT_EQ(defaultStructureSpec(organ, 1).structureClass, StructureClass::Forbidden) << organ;
}

TEST(Terminology, PresetGlobsCannotDowngradeForbiddenStructures)
{
    std::vector<StructureSpec> specs;
    for (const std::string& name : kTotalSegmentatorV2)
        specs.push_back(defaultStructureSpec(name, 1));
    const StructureClass obstacle = StructureClass::Obstacle;
    EXPECT_GT(overrideStructures(specs, "*iliac*", 0.0, &obstacle, "preset test"), 0);
    for (const auto& spec : specs)
        if (spec.name.find("iliac") != std::string::npos) {
            EXPECT_EQ(spec.structureClass, StructureClass::Forbidden) << spec.name;
            EXPECT_DOUBLE_EQ(spec.marginMm, 3.0) << spec.name;
            ASSERT_EQ(spec.adjustments.size(), 1u) << spec.name;
            EXPECT_NE(spec.adjustments[0].find("kept forbidden"), std::string::npos) << spec.adjustments[0];
        }
    // A stricter rule by glob is fine: bone of the hips gets a margin.
    EXPECT_EQ(overrideStructures(specs, "hip_*", 1.5, &obstacle, "preset test"), 2);
    // The exact name may downgrade, and the listing says so.
    const StructureClass caution = StructureClass::Caution;
    EXPECT_EQ(overrideStructures(specs, "Aorta", 1.0, &caution, "preset test"), 1);
    for (const auto& spec : specs)
        if (spec.name == "aorta") {
            EXPECT_EQ(spec.structureClass, StructureClass::Caution);
            ASSERT_EQ(spec.adjustments.size(), 1u);
            EXPECT_NE(spec.adjustments[0].find("downgraded by preset test 'Aorta'"), std::string::npos)
                << spec.adjustments[0];
        }
    // "*aorta" is a glob even when it matches one structure only.
    const StructureClass ignored = StructureClass::Ignored;
    specs.push_back(defaultStructureSpec("aorta", 9));
    overrideStructures(specs, "*aorta", 0.0, &ignored, "--margin");
    EXPECT_EQ(specs.back().structureClass, StructureClass::Forbidden);
}

TEST(Terminology, NoBuiltInPresetTurnsAVesselOrOrganIntoBoneOrCaution)
{
    for (const std::string& presetName : builtInPresetNames()) {
        const Preset preset = loadPreset(presetName);
        std::vector<StructureSpec> specs;
        for (const std::string& name : kTotalSegmentatorV2)
            specs.push_back(defaultStructureSpec(name, 1));
        applyPresetRules(preset, specs);
        for (const auto& spec : specs)
            if (kVessels.count(spec.name) || kOrgans.count(spec.name) || spec.name == "spinal_cord")
                EXPECT_EQ(spec.structureClass, StructureClass::Forbidden) << presetName << ": " << spec.name;
            else if (isBoneName(spec.name))
                EXPECT_EQ(spec.structureClass, StructureClass::Obstacle) << presetName << ": " << spec.name;
    }
    // The L5 dorsal ramus preset keeps the iliac crest an obstacle by naming bone, not "*iliac*".
    const Preset l5 = loadPreset("l5-dorsal-ramus");
    for (const auto& rule : l5.structures)
        EXPECT_NE(rule.pattern, "*iliac*");
    std::vector<StructureSpec> phantom{defaultStructureSpec("bone_ilium_left", 1),
                                       defaultStructureSpec("common_iliac_vein_left", 2)};
    applyPresetRules(l5, phantom);
    EXPECT_EQ(phantom[0].structureClass, StructureClass::Obstacle);
    EXPECT_EQ(phantom[1].structureClass, StructureClass::Forbidden);
}

TEST(Terminology, TotalSegmentatorClassMapsNumberLikeMapToBinary)
{
    const auto v2 = Terminology::builtIn().classMap("totalsegmentator-v2");
    ASSERT_EQ(v2.size(), kTotalSegmentatorV2.size());
    for (std::size_t n = 0; n < kTotalSegmentatorV2.size(); ++n)
        EXPECT_EQ(v2.at(static_cast<std::uint16_t>(n + 1)), kTotalSegmentatorV2[n]);
    // Spot checks against map_to_binary.py: v2 67 iliac_vena_left, 117 costal_cartilages;
    // v1 53 iliac_vena_left, 104 urinary_bladder.
    EXPECT_EQ(v2.at(67), "iliac_vena_left");
    EXPECT_EQ(v2.at(117), "costal_cartilages");
    const auto v1 = Terminology::builtIn().classMap("totalsegmentator-v1");
    ASSERT_EQ(v1.size(), 104u);
    EXPECT_EQ(v1.at(53), "iliac_vena_left");
    EXPECT_EQ(v1.at(104), "urinary_bladder");
    EXPECT_TRUE(Terminology::builtIn().classMap("nothing").empty());
}

TEST(Terminology, CodesForADicomSegWriter)
{
    StructureCodes codes = structureCodesForName("iliac_vena_left");
    EXPECT_EQ(codes.source, "terminology");
    EXPECT_EQ(codes.type.scheme, "SCT");
    EXPECT_EQ(codes.type.value, "46027005");
    EXPECT_EQ(codes.modifier.value, "7771000"); // left
    EXPECT_EQ(codes.category.value, "123037004");
    codes = structureCodesForName("L4 vertebra");
    EXPECT_EQ(codes.type.value, "11994002");
    // A nerve root has no code of its own in the table: the generic Nerve code.
    codes = structureCodesForName("nerve_root_L4_left");
    EXPECT_EQ(codes.source, "group");
    EXPECT_EQ(codes.type.value, "119410002");
    codes = structureCodesForName("something_else");
    EXPECT_EQ(codes.source, "generic");
    EXPECT_EQ(codes.type.value, "85756007");
    EXPECT_EQ(codes.category.value, "85756007");
}

TEST(Terminology, PhantomNamesKeepTheirClasses)
{
    struct Case
    {
        const char* name;
        StructureClass c;
        double margin;
    };
    const Case cases[] = {
        {"common_iliac_artery_left", StructureClass::Forbidden, 3.0},
        {"common_iliac_vein_right", StructureClass::Forbidden, 3.0},
        {"bone_ilium_left", StructureClass::Obstacle, 0.0},
        {"disc_L4_L5", StructureClass::Caution, 2.0},
        {"facet_joint_L4_L5_left", StructureClass::Target, 0.0},
        {"table", StructureClass::Ignored, 0.0},
        {"nerve_root_S1_left", StructureClass::Forbidden, 2.0},
    };
    for (const auto& c : cases) {
        const StructureSpec spec = defaultStructureSpec(c.name, 1);
        EXPECT_EQ(spec.structureClass, c.c) << c.name;
        EXPECT_DOUBLE_EQ(spec.marginMm, c.margin) << c.name;
        EXPECT_EQ(spec.rule.rfind("name: ", 0), 0u) << c.name << ": " << spec.rule;
    }
}

TEST(Terminology, AutomaticSegmentationNamesKeepTheirClasses)
{
    // imaging/README-segmentation.md: gas pockets in the bowel are caution 2 mm (never the
    // bowel's organ rule), the canal is the neural axis, the level-named vertebrae are bone.
    const StructureSpec gas = defaultStructureSpec("bowel_gas", 1);
    EXPECT_EQ(gas.structureClass, StructureClass::Caution);
    EXPECT_DOUBLE_EQ(gas.marginMm, 2.0);
    EXPECT_EQ(gas.rule, "name: bowel_gas");
    const StructureSpec canal = defaultStructureSpec("spinal_canal", 1);
    EXPECT_EQ(canal.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(canal.marginMm, 3.0);
    for (const char* bone : {"bone", "vertebra_L1", "vertebra_L2", "vertebra_L5", "sacrum"})
        EXPECT_EQ(defaultStructureSpec(bone, 1).structureClass, StructureClass::Obstacle) << bone;
    const StructureSpec lung = defaultStructureSpec("lung", 1);
    EXPECT_EQ(lung.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(lung.marginMm, 5.0);
}

TEST(Terminology, SegmentCodingKeepsTheCodesASegmentWasReadWith)
{
    // Read from a SEG with its own codes (SNOMED CT 64033007 Kidney, 24028007 Right): kept.
    imaging::Segment read;
    read.name = "Segment_1";
    read.categoryCode = {"SCT", "123037004", "Anatomical Structure"};
    read.typeCode = {"SCT", "64033007", "Kidney"};
    read.typeModifierCode = {"SCT", "24028007", "Right"};
    imaging::SegmentCoding coding = segmentCodingFor(read);
    EXPECT_EQ(coding.type.value, "64033007");
    EXPECT_EQ(coding.typeModifier.value, "24028007");
    // A name only: the table's codes (46027005 Common iliac vein, 7771000 Left).
    imaging::Segment named;
    named.name = "iliac_vena_left";
    coding = segmentCodingFor(named);
    EXPECT_EQ(coding.category.value, "123037004");
    EXPECT_EQ(coding.type.value, "46027005");
    EXPECT_EQ(coding.typeModifier.value, "7771000");
    // A type without a category is not a usable coding: the name decides.
    named.typeCode = {"SCT", "64033007", "Kidney"};
    EXPECT_EQ(segmentCodingFor(named).type.value, "46027005");
}
