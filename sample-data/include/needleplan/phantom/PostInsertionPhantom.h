#pragma once
/// Post-insertion CTs of the lumbar phantom with known truth: the phantom moved by a known rigid
/// transform on the same scanner grid, with steel needles of known gauge along known paths (partial
/// volume, metal HU, streak artefacts, noise), so that registration and needle measurement can be
/// checked against the truth. Every position is LPS mm.

#include "needleplan/imaging/RigidTransform.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <string>
#include <vector>

namespace np::phantom {

/// A needle to insert, given in the planning phantom's frame (before the motion).
struct PhantomNeedle
{
    Vec3 entryLps; ///< a point on the shaft outside the tip (the skin entry or beyond)
    Vec3 tipLps;
    int gauge = 22; ///< 18, 20, 21, 22, 23, 25 or 27 (outer diameter from the gauge table)
};

/// How to make the post-insertion CT.
struct PostInsertionOptions
{
    PhantomOptions
        phantom; ///< the scanner grid, noise and patient position (anatomyMotion is set from below)
    std::vector<PhantomNeedle> needles;
    Vec3 moveMm;                   ///< translation of the phantom between the scans
    Vec3 moveDeg;                  ///< rotation (about x, then y, then z, degrees) about the L4 body centre
    float metalHu = 20000.0f;      ///< steel on an extended-range scanner
    float scannerMaxHu = 30000.0f; ///< values are clipped here (3071 for a 12-bit scanner)
    double outsideMm = 20.0;       ///< shaft length beyond the entry point (toward the hub)
    double streakHu = 150.0;       ///< amplitude of the streak artefacts near the metal
};

/// One needle as inserted, with its truth in both frames.
struct InsertedNeedle
{
    PhantomNeedle planning; ///< as given (planning frame)
    Vec3 tipPostLps;        ///< the tip in the post-insertion CT's frame
    Vec3 entryPostLps;
    Vec3 skinEntryLps; ///< where the line leaves the phantom's body (planning frame)
    bool skinFound = false;
    double outerDiameterMm = 0.0;
};

/// The post-insertion CT and its truth.
struct PostInsertionPhantom
{
    imaging::Volume ct;
    imaging::RigidTransform postFromPlanning; ///< the phantom's motion
    std::vector<InsertedNeedle> needles;
};

/// The rigid motion of `options` (rotation about the L4 body centre, then the translation).
imaging::RigidTransform phantomMotion(const Vec3& moveDeg, const Vec3& moveMm);

/// Generates the post-insertion CT. Throws np::Error(InvalidArgument) for bad options (an unknown
/// gauge, a needle of zero length, a motion beyond 50 mm or 45 degrees) and Cancelled on request.
PostInsertionPhantom generatePostInsertionCt(const PostInsertionOptions& options,
                                             ProgressSink* progress = nullptr);

/// Writes folder/dicom/ (the CT series, its own series and frame of reference) and
/// folder/truth.json ({"schema":"needleplan.post-insertion-truth/1","coordinateSystem":"LPS",
/// "postFromPlanning":{"rotation":[9 values, row-major],"translationMm":[x,y,z],"moveMm":..,"moveDeg":..},
/// "needles":[{"gauge","outerDiameterMm","entryLps","tipLps","skinEntryLps","tipPostLps","entryPostLps"}]}),
/// each atomically.
void writePostInsertionPhantom(const PostInsertionPhantom& phantom, const PostInsertionOptions& options,
                               const std::string& folder, ProgressSink* progress = nullptr);

} // namespace np::phantom
