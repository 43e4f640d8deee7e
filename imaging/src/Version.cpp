#include "needleplan/imaging/Version.h"

namespace np::imaging {

std::string softwareVersion()
{
    return NP_SOFTWARE_VERSION;
}

} // namespace np::imaging
