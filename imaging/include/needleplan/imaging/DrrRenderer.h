#pragma once
/// Digitally reconstructed radiographs (DRR) of a CT for a C-arm view.
///
/// A DRR pixel is the line integral, along the ray from the source to the pixel, of the
/// attenuation relative to water μ/μw = max(0, 1 + HU/1000): the water-equivalent path length in mm.
/// The integral follows Joseph's method: the ray visits each voxel plane across its main axis once
/// and samples it bilinearly, so a homogeneous box of water gives its exact chord length.
/// Each ray is clipped to the volume and to the bounding box of non-air voxels, and air at both ends
/// is skipped brick by brick. Rays run in groups of 8 with AVX2 where the processor has it.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/RigidTransform.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

class Volume;

/// How CT numbers become relative attenuation.
struct AttenuationOptions
{
    /// Extra relative attenuation per HU above `boneThresholdHu` (0: the physical value; 1
    /// doubles the attenuation excess of bone over the threshold). Display only, not WEPL.
    double boneEnhancement = 0.0;
    double boneThresholdHu = 150.0;
    /// CT numbers at or below this are air (μ = 0), so that scanner noise in the air around the
    /// patient does not defeat empty-space skipping. Lung below −900 HU has μ/μw < 0.1.
    double airThresholdHu = -900.0;
    /// Keep a second copy with y fastest for rays that run mostly along the grid's first axis
    /// (lateral views of axial CTs): twice the memory, about twice the speed for those views.
    bool firstAxisCopy = true;
    int threads = 0; ///< 0: one per hardware thread (at most 16)
};

/// The attenuation volume of a CT, built once and shared by every DRR of it: μ/μw in steps of
/// 1/1000 (0 to 65.535) on the CT grid with a zero border, plus an occupancy map of 8³ bricks
/// (2 bytes per voxel, 4 with the first-axis copy).
class AttenuationVolume
{
public:
    AttenuationVolume() = default;
    /// Converts a CT in HU. Throws np::Error(InvalidArgument) for an empty volume or bad options,
    /// Cancelled when `progress` asks to stop.
    explicit AttenuationVolume(const Volume& ctHu, const AttenuationOptions& options = {},
                               ProgressSink* progress = nullptr);

    bool empty() const { return m_data == nullptr; }
    /// Grid of the CT it was built from.
    const Geometry& geometry() const;
    /// μ/μw at voxel (i, j, k) of the CT grid as stored (0 outside).
    double relativeAttenuation(std::int64_t i, std::int64_t j, std::int64_t k) const;
    /// Fraction of 8³ bricks that hold a voxel above air (μ/μw > 0).
    double occupiedBrickFraction() const;

    struct Data;
    const Data& data() const { return *m_data; }

private:
    std::shared_ptr<const Data> m_data;
};

/// How to render.
struct DrrOptions
{
    int threads = 0;       ///< 0: one per hardware thread (at most 16)
    bool allowSimd = true; ///< false: the portable scalar path (same sums, for tests)
    /// The rendered image's pixel (0, 0) is the view's pixel (firstColumn, firstRow): a window of
    /// the view's detector plane (it may reach past the detector's edges), e.g. a region of interest
    /// that is not centred on the isocentre. 0, 0: the view's own detector.
    double firstColumn = 0.0;
    double firstRow = 0.0;
};

/// Water-equivalent path length image, row-major (index = column + columns × row), in mm.
struct DrrImage
{
    int columns = 0;
    int rows = 0;
    std::vector<float> pathLengthMm;

    float at(int column, int row) const
    {
        return pathLengthMm[static_cast<std::size_t>(column) + static_cast<std::size_t>(columns) * row];
    }
};

/// Renders the DRR of `volume` for `view`. Throws np::Error(InvalidArgument) for an empty volume,
/// Cancelled when `progress` asks to stop (checked between tiles of 32 × 4 pixels).
DrrImage renderDrr(const AttenuationVolume& volume, const CArmGeometry& view, const DrrOptions& options = {},
                   ProgressSink* progress = nullptr);

/// Renders the DRR of the CT placed in the view's frame by `viewFromCt` (a CT point x lies at
/// viewFromCt(x) for the C-arm), as 2D/3D registration needs: the result's projection matrix is
/// the view's times viewFromCt.
DrrImage renderDrr(const AttenuationVolume& volume, const CArmGeometry& view,
                   const RigidTransform& viewFromCt, const DrrOptions& options = {},
                   ProgressSink* progress = nullptr);

/// Water-equivalent path length (mm) along the segment from `sourceLps` to `endLps`, with the
/// scalar kernel of renderDrr.
double waterEquivalentPathLengthMm(const AttenuationVolume& volume, const Vec3& sourceLps,
                                   const Vec3& endLps);

/// How a DRR is shown as a fluoroscope would: transmission exp(−μw·L) relative to an automatic
/// exposure (the median path length of the pixels that see the patient), then a soft-knee monitor
/// curve s/(1 + s). Dense matter (bone, metal) is dark unless inverted.
struct DrrDisplayOptions
{
    double waterAttenuationPerMm = 0.02; ///< μ of water at the effective energy (about 60 keV)
    bool invert = false;                 ///< bone bright
};

/// 8-bit display image of `drr`, row-major like the DRR.
std::vector<std::uint8_t> drrDisplayImage(const DrrImage& drr, const DrrDisplayOptions& options = {});

/// Writes water-equivalent path lengths (float, mm) as NRRD: one frame gives a 2D image with the
/// detector pixel pitch as spacing, several frames of one size a 3D stack (third spacing 1).
/// Written to a temporary file and renamed into place; throws np::Error(Io) when writing fails,
/// InvalidArgument for frames of different sizes.
void writeDrrNrrd(const std::string& path, const std::vector<DrrImage>& frames, double columnSpacingMm,
                  double rowSpacingMm);

/// Writes an 8-bit grey image (row-major, rows down) as PNG, atomically; throws np::Error(Io).
void writeGray8Png(const std::string& path, int columns, int rows, const std::vector<std::uint8_t>& pixels);

} // namespace np::imaging
