#pragma once
// The steps of the automatic segmentation after the body mask: bone with its marrow, the air
// inside the body (lung or bowel gas), the spinal canal and the vertebral levels. Internal to
// np_imaging.

#include "MaskOperations.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

#include <string>
#include <vector>

namespace np::imaging::segmentation {

/// A background region of one k slice enclosed by bone whose content is not marrow (the canal,
/// a foramen): its pixels (i + size_i * j) and centre in voxel units.
struct EnclosedHole
{
    std::int64_t k = 0;
    std::vector<std::int64_t> pixels;
    double centreI = 0.0, centreJ = 0.0;
};

/// Completes `bone` (thresholded, small fragments dropped) in place: partial-volume edge voxels
/// (at least boneEdgeHu, touching bone in their slice) and the marrow, i.e. holes enclosed by
/// bone in a slice (after a one-voxel closing) that are small or dense. Holes that are neither
/// go to `lowDensityHoles` when their area is in the canal's range.
void completeBone(const Volume& ct, const Mask& body, Mask& bone, const SegmentationOptions& options,
                  std::vector<EnclosedHole>& lowDensityHoles);

/// Splits the air inside the body into lung (large, aerated, reaching the top of the field of
/// view or ending in the trachea) and bowel gas (every other pocket). Notes go to `notes`.
void classifyAir(const Volume& ct, const Mask& air, const SegmentationOptions& options, Mask& lung,
                 Mask& bowelGas, std::vector<std::string>& notes);

/// The spinal canal: the longest chain of low-density holes along the spine, with the gaps
/// between rings interpolated (shape-based) and the ends extended. Fills `centrelineLps` with
/// the canal's centre, caudal to cranial. Returns an empty mask and a note when none is found.
Mask segmentSpinalCanal(const Volume& ct, const Mask& body, const Mask& bone,
                        const std::vector<EnclosedHole>& holes, const SegmentationOptions& options,
                        std::vector<Vec3>& centrelineLps, std::vector<std::string>& notes);

/// True for "L1".."L6" and "T1".."T12" (names lowestLumbar may take).
bool isVertebraName(const std::string& name);

struct NamedMask
{
    std::string name;
    Mask voxels;
};

/// Vertebrae along the canal's centreline, caudal to cranial: bodies found as bone runs in front
/// of the canal, the sacrum as the lowest run with alae, names counted up from it (or from
/// options.lowestLumbar), each bone voxel given to the nearest body along the bone. Notes say
/// how the levels were counted and when the count is uncertain.
std::vector<NamedMask> labelVertebrae(const Volume& ct, const Mask& bone,
                                      const std::vector<Vec3>& centrelineLps,
                                      const SegmentationOptions& options, std::vector<std::string>& notes);

} // namespace np::imaging::segmentation
