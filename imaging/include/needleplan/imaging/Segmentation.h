#pragma once
/// Automatic segmentation of a CT in Hounsfield units into the structures the planner must know
/// without any clinician input: the body (everything inside the skin), bone, and lung.

#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/Volume.h"

#include <cstdint>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// Thresholds (HU) and clean-up sizes of segmentStructures(). The defaults suit adult CT:
/// fat is about -100 HU and air -1000, so -400 separates body from air; muscle is 40-60 HU and
/// cancellous bone 200-400, so 150 separates bone from soft tissue; aerated lung is -950..-500.
struct SegmentationOptions
{
    bool body = true; ///< segment "body" (always computed when bone or lung is asked for)
    bool bone = true; ///< segment "bone" (cortical and cancellous together)
    bool lung = true; ///< segment "lung" where present

    float bodyThresholdHu = -400.0f; ///< voxels above this are tissue (body candidates)
    /// Radius of the in-plane opening that cuts thin attachments (a thin table top, straps, a
    /// narrow contact) off the body; 0 keeps everything connected to the largest component.
    double tableRemovalRadiusMm = 3.0;
    /// Drop a solid table: a flat band of 1 mm layers perpendicular to the anterior-posterior axis
    /// (LPS y; supine or prone patients) that are at least `tableSlabMinCoverage` tissue across the
    /// field of view (voxels at or below -1500 HU, outside the reconstruction circle, are not
    /// counted), at most `tableSlabMaxThicknessMm` thick, at either end of the tissue.
    bool removeTableSlab = true;
    double tableSlabMinCoverage = 0.9;
    double tableSlabMaxThicknessMm = 60.0;
    /// Fill holes slice by slice (k slices) as well as in 3D. A hole closed in 3D is closed in
    /// every slice it crosses, so the per-slice fill includes the 3D one.
    bool fillHolesPerSlice = true;

    float boneThresholdHu = 150.0f; ///< voxels at or above this inside the body are bone
    double boneMinComponentMm3 =
        30.0; ///< bone fragments smaller than this are dropped (noise, calcifications)
    double boneMaxHoleAreaMm2 =
        40.0; ///< in-slice holes up to this area are filled (marrow); the spinal canal is larger

    float lungThresholdHu = -400.0f;   ///< air or aerated lung inside the body is below this
    double lungMinVolumeMl = 30.0;     ///< internal air components smaller than this (bowel gas) are not lung
    double lungMaxHoleAreaMm2 = 200.0; ///< in-slice holes (vessels, airways walls) up to this area are filled

    int threads = 0; ///< worker threads; 0 uses ITK's global default
};

/// Segments `ct` (values in HU) into "body", "bone" and "lung" (each only when asked for; lung
/// only where found) on the CT's own grid. The masks overlap: bone and lung lie inside body;
/// StructureSet::toLabelMap() keeps bone and lung where they overlap the body. Notes about what
/// was found (e.g. no lung) are added to the set's warnings. Honours cancel; throws
/// np::Error(InvalidArgument) for an empty volume or a bad option.
StructureSet segmentStructures(const Volume& ct, const SegmentationOptions& options = {},
                               ProgressSink* progress = nullptr);

/// Parses a comma-separated list such as "body,bone" into the three switches of `options`;
/// throws np::Error(InvalidArgument) naming an unknown structure.
void selectStructures(SegmentationOptions& options, const std::string& commaSeparatedNames);

/// The skin surface as the 0.5 level of a Gaussian-smoothed body mask, with outward normals from
/// the smoothed mask's gradient.
class BodySurface
{
public:
    /// Smooths `bodyMask` (0/1, laid out like Volume on `geometry`) with a Gaussian of `sigmaMm`.
    BodySurface(const Geometry& geometry, const std::vector<std::uint8_t>& bodyMask, double sigmaMm = 1.5,
                ProgressSink* progress = nullptr);
    /// Body mask = every voxel carrying any label (structures lie inside the body).
    static BodySurface fromLabelMap(const LabelMap& labels, double sigmaMm = 1.5,
                                    ProgressSink* progress = nullptr);

    /// Smoothed body fraction at an LPS point: 1 deep inside, 0 outside, 0.5 on the skin.
    double insideFraction(const Vec3& pointLps) const;
    /// Unit outward skin normal near `pointLps` (minus the normalised gradient of the smoothed
    /// mask); the zero vector where the mask is flat (far from the skin).
    Vec3 outwardNormalLps(const Vec3& pointLps) const;
    const Volume& smoothedMask() const { return m_smoothed; }

private:
    Volume m_smoothed;
};

} // namespace np::imaging
