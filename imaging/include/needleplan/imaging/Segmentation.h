#pragma once
/// Automatic segmentation of a CT in Hounsfield units into the structures the planner must know
/// without any clinician input: the body (everything inside the skin), bone (cortical and
/// cancellous), the spinal canal, the vertebrae with their level names, lung and bowel gas.

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
/// cortical bone several hundred, so 150 separates bone from soft tissue (cancellous bone below it
/// is filled in as marrow); aerated lung is -950..-500.
struct SegmentationOptions
{
    bool body = true;        ///< segment "body" (always computed: everything else lies inside it)
    bool bone = true;        ///< segment "bone" (cortical and cancellous together, every bone)
    bool lung = true;        ///< segment "lung" where present
    bool bowelGas = true;    ///< segment "bowel_gas": internal gas that is not lung
    bool spinalCanal = true; ///< segment "spinal_canal" from the vertebral rings
    /// Name the vertebrae: "vertebra_L5", "vertebra_L4", ... and "sacrum", counted up from the
    /// sacrum; subsets of "bone", listed after it.
    bool vertebrae = true;

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
    /// Partial volume: voxels at or above this that touch bone in their slice are bone too (a
    /// coarse voxel half filled with thin cortex reads well below cortical HU).
    float boneEdgeHu = 100.0f;
    double boneMinComponentMm3 =
        30.0; ///< bone fragments smaller than this are dropped (noise, calcifications)
    double boneMaxHoleAreaMm2 = 40.0; ///< in-slice holes in bone up to this area are always filled
    /// Larger holes enclosed by bone in a slice are marrow (filled) when the mean of their interior
    /// is at least this; cancellous bone is mostly 100-300 HU, the canal's fat and CSF -100..20.
    float marrowMinMeanHu = 60.0f;
    double marrowMaxHoleAreaMm2 = 4000.0; ///< holes larger than this (the pelvic ring) are never marrow
    /// Fatty marrow reads below marrowMinMeanHu: a hole of at least this area that does not lie
    /// like the canal (the vertebral body 3-20 mm in front, the lamina 1-8 mm behind; a marrow
    /// cavity has the canal behind its cortex) is marrow too. Smaller ones (sacral foramina) stay
    /// open.
    double fattyMarrowMinAreaMm2 = 150.0;
    /// ... and whose interior mean is at least this (fatty marrow 25-60 HU; the canal's fat and
    /// CSF lower).
    float fattyMarrowMinMeanHu = 25.0f;

    float lungThresholdHu = -400.0f; ///< air or aerated lung inside the body is below this
    /// Aerated components smaller than this are not lung (a noise floor: density and position tell
    /// lung from gas, and three slices through the lung bases hold only a few ml).
    double lungMinVolumeMl = 1.0;
    /// Aerated lung holds vessels and septa: the median of a lung component is about -850 HU;
    /// gas in the bowel or stomach is about -1000. Components with a lower median are not lung.
    float lungMinMedianHu = -960.0f;
    /// A lung reaches the top of the field of view (lung bases in an abdominal CT) or ends above
    /// in the trachea: the top 10 mm of its component hold at most this volume (a trachea of
    /// 10 mm radius holds 3 ml there; the apex of a lung far more).
    double tracheaMaxCapMl = 5.0;
    double lungMaxHoleAreaMm2 = 200.0; ///< in-slice holes (vessels, airways walls) up to this area are filled
    double bowelGasMinVolumeMl = 0.5;  ///< internal gas pockets smaller than this are left out

    /// Spinal canal: enclosed low-density holes of the bone slices with an area in this range,
    /// chained along the spine with gaps (discs, interlaminar windows) of at most canalMaxGapMm.
    double canalMinAreaMm2 = 40.0;
    double canalMaxAreaMm2 = 900.0;
    double canalMaxGapMm = 45.0;
    /// The canal goes on past the last enclosing ring: it is extended by this much (clipped to
    /// the field of view), erring towards caution.
    double canalEndExtensionMm = 60.0;

    /// Correction of the level count: the name of the lowest lumbar vertebra found (e.g. "L5",
    /// "L6" with six lumbar vertebrae, "L4" when the sacrum is out of view). Empty: automatic
    /// (L5 above the sacrum).
    std::string lowestLumbar;

    int threads = 0; ///< worker threads; 0 uses ITK's global default
};

/// Segments `ct` (values in HU) on its own grid into "body", "bone", "spinal_canal", the
/// vertebrae ("vertebra_L5", ..., "sacrum"), "lung" and "bowel_gas" (each only when asked for, and
/// only where found). The masks overlap: everything lies inside body, the vertebrae inside bone;
/// StructureSet::toLabelMap() keeps the later (finer) one. Notes about what was found (no lung,
/// an uncertain level count) are added to the set's warnings. Honours cancel; throws
/// np::Error(InvalidArgument) for an empty volume or a bad option.
StructureSet segmentStructures(const Volume& ct, const SegmentationOptions& options = {},
                               ProgressSink* progress = nullptr);

/// Parses a comma-separated list such as "body,bone,spinal_canal" into the switches of `options`
/// (body or skin, bone, lung, bowel_gas, spinal_canal or canal, vertebrae or levels); throws
/// np::Error(InvalidArgument) naming an unknown structure.
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
