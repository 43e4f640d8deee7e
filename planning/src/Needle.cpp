#include "needleplan/planning/Needle.h"

#include "needleplan/imaging/Error.h"

namespace np::planning {

double outerDiameterForGaugeMm(int gauge)
{
    // Nominal outer diameters of thin-wall hypodermic tubing (ISO 9626).
    switch (gauge) {
    case 18:
        return 1.27;
    case 20:
        return 0.91;
    case 21:
        return 0.82;
    case 22:
        return 0.72;
    case 23:
        return 0.64;
    case 25:
        return 0.51;
    case 27:
        return 0.41;
    default:
        throw Error(ErrorCode::InvalidArgument, "needle gauge " + std::to_string(gauge) +
                                                    " G is not in the table (18, 20, 21, 22, 23, 25, 27)");
    }
}

namespace {
Needle makeNeedle(int gauge, double lengthMm, double activeTipMm)
{
    Needle needle;
    needle.gauge = gauge;
    needle.outerDiameterMm = outerDiameterForGaugeMm(gauge);
    needle.usableLengthMm = lengthMm;
    needle.activeTipMm = activeTipMm;
    auto number = [](double v) {
        std::string text = std::to_string(v);
        text.erase(text.find_last_not_of('0') + 1);
        if (!text.empty() && text.back() == '.')
            text.pop_back();
        return text;
    };
    needle.name = std::to_string(gauge) + "G-" + number(lengthMm) + "mm";
    if (activeTipMm > 0.0)
        needle.name += "-RF" + number(activeTipMm);
    return needle;
}
} // namespace

const std::vector<Needle>& needleCatalogue()
{
    static const std::vector<Needle> catalogue = {
        makeNeedle(22, 90, 0),   makeNeedle(22, 127, 0),  makeNeedle(22, 150, 0),  makeNeedle(25, 50, 0),
        makeNeedle(25, 90, 0),   makeNeedle(20, 100, 10), makeNeedle(20, 150, 10), makeNeedle(18, 100, 10),
        makeNeedle(18, 150, 10), makeNeedle(18, 150, 5),
    };
    return catalogue;
}

std::optional<Needle> findNeedle(const std::string& name)
{
    for (const auto& needle : needleCatalogue())
        if (needle.name == name)
            return needle;
    // "<two digits>G-<number>mm" optionally followed by "-RF<number>".
    std::size_t position = 0;
    auto readDigits = [&](std::size_t minimum, std::size_t maximum) {
        const std::size_t start = position;
        while (position < name.size() && position - start < maximum && name[position] >= '0' &&
               name[position] <= '9')
            ++position;
        return position - start >= minimum ? name.substr(start, position - start) : std::string();
    };
    auto readNumber = [&]() {
        std::string text = readDigits(1, 6);
        if (!text.empty() && position < name.size() && name[position] == '.') {
            ++position;
            const std::string fraction = readDigits(1, 3);
            if (fraction.empty())
                return std::string();
            text += "." + fraction;
        }
        return text;
    };
    auto expect = [&](const char* literal) {
        const std::string text(literal);
        if (name.compare(position, text.size(), text) != 0)
            return false;
        position += text.size();
        return true;
    };
    const std::string gaugeText = readDigits(2, 2);
    if (gaugeText.empty() || !expect("G-"))
        return std::nullopt;
    const std::string lengthText = readNumber();
    if (lengthText.empty() || !expect("mm"))
        return std::nullopt;
    std::string tipText;
    if (position < name.size()) {
        if (!expect("-RF"))
            return std::nullopt;
        tipText = readNumber();
        if (tipText.empty() || position != name.size())
            return std::nullopt;
    }
    const int gauge = std::stoi(gaugeText);
    const double length = std::stod(lengthText);
    const double tip = tipText.empty() ? 0.0 : std::stod(tipText);
    if (length <= 0.0 || length > 400.0 || tip < 0.0 || tip >= length)
        return std::nullopt;
    try {
        return makeNeedle(gauge, length, tip);
    } catch (const Error&) {
        return std::nullopt;
    }
}

} // namespace np::planning
