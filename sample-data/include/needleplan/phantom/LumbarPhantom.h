#pragma once
/// The procedural lumbar phantom: a CT-like volume of L3-S1 with its ground-truth label map and a
/// catalogue of named needle targets. Deterministic: the same options give the same voxels.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/RigidTransform.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

namespace np {
class ProgressSink;
}

namespace np::phantom {

/// How to sample the phantom. The anatomy is fixed in LPS millimetres; the options only choose
/// the grid it is sampled on (and the noise).
struct PhantomOptions
{
    Vec3 spacing{0.8, 0.8, 1.0};     ///< mm along i, j, k (anisotropic allowed)
    imaging::Size3 size{0, 0, 0};    ///< voxels; 0 on an axis: cover the default field of view
    /// Grid direction (columns = LPS directions of i, j, k). Empty: what scanners write for the
    /// patient position (HFS rows +x / columns +y; HFP -x / -y; FFS -x / +y; FFP +x / -y).
    std::optional<Mat3> directionLps;
    std::string patientPosition = "HFP"; ///< HFS, HFP, FFS or FFP (written as PatientPosition)
    std::uint32_t seed = 1;          ///< seeds the noise (the anatomy does not depend on it)
    double noiseHu = 10.0;           ///< standard deviation of the deterministic noise, HU (>= 0)
    /// Rotates the grid about the axis (1, 2, 3)/sqrt(14) through the field-of-view centre by this
    /// many degrees (after `directionLps`), for oblique-geometry tests. 0: no rotation.
    double obliqueDeg = 0.0;
    bool obliqueTest = false;        ///< shortcut: as obliqueDeg = 20 when obliqueDeg is 0
    /// Partial volume: each voxel's HU is the mean of partialVolume^3 sub-voxels sampled on a grid
    /// partialVolume times finer (1: point sampling). The labels stay those at the voxel centres.
    int partialVolume = 1;
    /// Added to the cancellous HU of every bone (e.g. -150 for osteoporotic bone of 80-140 HU).
    double cancellousHuOffset = 0.0;
    /// Moves the anatomy (not the grid): the phantom as scanned after this rigid motion, which maps
    /// the anatomy's resting LPS onto where it lies in this scan. Empty: at rest.
    std::optional<imaging::RigidTransform> anatomyMotion;
};

/// A named needle target in LPS millimetres.
struct NamedTarget
{
    std::string name;     ///< e.g. "L4 medial branch left (SAP-TP junction)"
    Vec3 positionLps;
    std::string level;    ///< nerve or joint level: "L4", "L4-L5", ...
    std::string side;     ///< "left" or "right"
    std::string kind;     ///< medial_branch, dorsal_ramus, facet_joint, transforaminal
    std::string description; ///< where it sits anatomically
};

struct Phantom
{
    imaging::Volume ct;           ///< HU, with VolumeInfo modality CT and the patient position
    imaging::LabelMap labels;     ///< ground truth on the same grid, one label per voxel
    std::vector<NamedTarget> targets;
};

/// Generates the phantom (multi-threaded). Throws np::Error(InvalidArgument) for bad options and
/// Cancelled when `progress` asks to stop.
Phantom generateLumbarPhantom(const PhantomOptions& options = {}, ProgressSink* progress = nullptr);

/// Writes folder/dicom/slice_*.dcm (CT series with the volume's patient position),
/// folder/structures.seg.nrrd and folder/targets.json. Each file is written atomically.
void writePhantom(const Phantom& phantom, const std::string& folder, ProgressSink* progress = nullptr);

/// Writes only the targets catalogue:
/// {"schema":"needleplan.targets/1","coordinateSystem":"LPS","targets":[{"name":..,"positionLps":[x,y,z],
///  "level":..,"side":..,"kind":..,"description":..}]}
void writeTargets(const std::vector<NamedTarget>& targets, const std::string& path);

/// Reads a targets.json written by writeTargets. Throws np::Error (NotFound, CorruptData) naming
/// the file.
std::vector<NamedTarget> readTargets(const std::string& targetsJsonPath);

/// Analytic ground truth: the structure name at an LPS point ("" for air), evaluated on the same
/// shapes the voxels are sampled from (independent of any grid).
std::string structureAt(const Vec3& pointLps);

/// Names, label values and colours of every structure the phantom can contain, in label order.
std::vector<imaging::Segment> phantomStructures();

/// Centre of vertebra `name` ("L3", "L4", "L5" or "S1") in LPS: the middle of its body.
Vec3 vertebralBodyCentreLps(const std::string& name);

} // namespace np::phantom
