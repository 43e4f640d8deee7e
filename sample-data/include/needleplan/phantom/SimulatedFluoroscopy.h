#pragma once
/// Simulated fluoroscopy with known geometry, for testing and measuring 2D/3D registration: the DRR
/// of a CT at a known pose, with a steel needle in the field, quantum (Poisson) noise, detector blur,
/// a display curve unlike the DRR's, collimator shutters and burnt-in text.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/FluoroRegistration.h"
#include "needleplan/imaging/RigidTransform.h"

#include <cstdint>
#include <optional>

namespace np::imaging {
class AttenuationVolume;
}

namespace np::phantom {

struct FluoroSimulationOptions
{
    double photonsPerPixel = 3000.0; ///< mean detected quanta behind the median patient path (0: no noise)
    double blurSigmaPx = 0.8;        ///< Gaussian detector blur in pixels (0: none)
    double gamma = 0.6; ///< display curve: 255 · (log transmission, scaled)^gamma, not the DRR's
    double collimationFraction = 0.1; ///< each shutter covers this fraction of the image (0: none)
    bool burntInText = true;          ///< white characters in two corners and a side marker
    /// A straight steel needle from entry to tip (LPS of the CT, 0.9 mm diameter), if any.
    std::optional<std::pair<Vec3, Vec3>> needleLps;
    double needleDiameterMm = 0.9;
    bool flipHorizontally = false; ///< mirror the image (a wrongly displayed frame)
    bool flipVertically = false;   ///< turn it upside down
    std::uint32_t seed = 1;
};

/// The frame a C-arm at `view` would show of the CT placed by `viewFromCt` (display values 0-255,
/// larger = brighter, dense matter dark).
imaging::FluoroFrame simulateFluoroscopy(const imaging::AttenuationVolume& ct,
                                         const imaging::CArmGeometry& view,
                                         const imaging::RigidTransform& viewFromCt,
                                         const FluoroSimulationOptions& options = {});

} // namespace np::phantom
