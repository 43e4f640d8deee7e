#pragma once
/// Needle catalogue: gauge, outer diameter, usable length and (for RF cannulas) active tip.

#include <optional>
#include <string>
#include <vector>

namespace np::planning {

/// One needle model the planner can use.
struct Needle
{
    std::string name;           ///< catalogue key, e.g. "22G-90mm" or "20G-100mm-RF10"
    int gauge = 22;             ///< Stubs Iron Wire Gauge
    double outerDiameterMm = 0; ///< shaft outer diameter; planning uses half of it as radius
    double usableLengthMm = 0;  ///< hub to tip
    double activeTipMm = 0;     ///< exposed RF tip, 0 for injection needles

    double radiusMm() const { return 0.5 * outerDiameterMm; }
    bool isRadiofrequency() const { return activeTipMm > 0.0; }
};

/// Outer diameter in mm of a needle gauge (18, 20, 21, 22, 23, 25, 27);
/// throws np::Error(InvalidArgument) for a gauge not in the table.
double outerDiameterForGaugeMm(int gauge);

/// The built-in catalogue, in a stable order.
const std::vector<Needle>& needleCatalogue();

/// Catalogue entry by name, or a needle parsed from a name of the form
/// "<gauge>G-<length>mm[-RF<tip>]" (e.g. "21G-120mm-RF5"). Empty when the name is neither.
std::optional<Needle> findNeedle(const std::string& name);

} // namespace np::planning
