#include "ArgumentText.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <exception>

namespace np::cli {

void badArgument(const std::string& message)
{
    throw np::Error(np::ErrorCode::InvalidArgument, message);
}

double parseNumber(const std::string& text, const std::string& what)
{
    std::size_t used = 0;
    double value = 0.0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || !std::isfinite(value))
        badArgument(what + " \"" + text + "\" is not a number");
    return value;
}

np::Vec3 parseLpsPoint(const std::string& text, const std::string& what)
{
    np::Vec3 p;
    std::string rest = text;
    for (int a = 0; a < 3; ++a) {
        const auto comma = rest.find(',');
        if ((a < 2) != (comma != std::string::npos))
            badArgument(what + " \"" + text + "\" must be X,Y,Z in LPS mm");
        p[a] = parseNumber(a < 2 ? rest.substr(0, comma) : rest, what);
        if (a < 2)
            rest = rest.substr(comma + 1);
    }
    return p;
}

const planning::PlanTarget& planTargetNamed(const planning::Plan& plan, const std::string& planPath,
                                            const std::string& name)
{
    for (const auto& t : plan.targets)
        if (name.empty() || t.name == name)
            return t;
    throw np::Error(np::ErrorCode::NotFound, planPath + ": no target named \"" + name + "\"");
}

} // namespace np::cli
