#pragma once
/// Evaluation of given trajectories with the same image, structures and rules as `check`, for
/// commands that bring trajectories from elsewhere (markups import).

#include "needleplan/planning/TrajectoryEvaluator.h"

#include <ostream>
#include <string>
#include <vector>

namespace np::cli {

/// Image, structures and rules, as `check` takes them.
struct EvaluationInputs
{
    std::string image;
    int series = -1;
    std::vector<std::string> structures; ///< none: the automatic segmentation (body, bone, lung)
    std::string preset;
    std::string needle; ///< empty: the preset's
    std::vector<std::string> margins;
    int threads = 2;
};

/// Evaluates each trajectory (with its own needle) as `check` does; progress lines go to `info`.
std::vector<planning::Evaluation> evaluateTrajectories(const EvaluationInputs& inputs,
                                                       const std::vector<planning::Trajectory>& trajectories,
                                                       std::ostream& info);

} // namespace np::cli
