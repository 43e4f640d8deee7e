#include "needleplan/render/SceneTypes.h"

namespace np::render {

Rgb clearanceColor(double clearanceMm, double marginMm)
{
    if (clearanceMm < marginMm)
        return {0.95, 0.2, 0.15};
    if (clearanceMm < marginMm + 1.0)
        return {1.0, 0.75, 0.1};
    return {0.2, 0.9, 0.35};
}

} // namespace np::render
