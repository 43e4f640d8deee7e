// needleplan-cli segment --image PATH [--series N] --out structures.seg.nrrd
//   [--only body,bone,lung,bowel_gas,spinal_canal,vertebrae] [--lowest-lumbar L5]
//   [--body-hu HU] [--bone-hu HU] [--bone-edge-hu HU] [--marrow-hu HU] [--lung-hu HU] [--seg-dicom FILE]

#include "CliCommand.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/planning/Terminology.h"

#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <memory>

namespace np::cli {

namespace {

struct SegmentArguments
{
    std::string image;
    int seriesIndex = -1;
    std::string out;
    std::string only;
    std::string dicomSegOut;
    imaging::SegmentationOptions options;
};

/// Prints each structure with its voxel count and volume in ml.
void printStructures(const imaging::StructureSet& set)
{
    for (const auto& s : set.structures()) {
        const std::int64_t voxels = s.voxelCount();
        std::cout << std::left << std::setw(28) << s.segment.name << std::right << std::setw(12) << voxels
                  << " voxels " << std::fixed << std::setprecision(2) << std::setw(10)
                  << double(voxels) * set.voxelVolumeMl() << " ml  ";
        // The planner's default rule for the name (the user can override it when planning).
        const auto spec = planning::defaultStructureSpec(s.segment.name, s.segment.labelValue);
        std::cout << planning::toString(spec.structureClass) << " " << std::setprecision(1) << spec.marginMm
                  << " mm\n";
    }
}

int runSegment(SegmentArguments& arguments)
{
    if (!arguments.only.empty())
        imaging::selectStructures(arguments.options, arguments.only);
    imaging::LoadOptions load;
    load.seriesIndex = arguments.seriesIndex;
    const imaging::Volume ct = imaging::loadVolume(arguments.image, load);
    if (!ct.info().modality.empty() && ct.info().modality != "CT")
        std::cerr << "needleplan-cli: warning: the image is " << ct.info().modality
                  << ", not CT; the thresholds assume Hounsfield units\n";
    const imaging::StructureSet set = imaging::segmentStructures(ct, arguments.options);
    imaging::writeSegNrrd(set.toLabelMap(), arguments.out);
    if (!arguments.dicomSegOut.empty()) {
        imaging::DicomSegWriteOptions segOptions;
        segOptions.automatic = true;
        segOptions.coding = planning::segmentCodingFor; // SNOMED CT codes of the terminology table
        for (const auto& warning : imaging::writeDicomSeg(set, ct, arguments.dicomSegOut, segOptions))
            std::cerr << "needleplan-cli: warning: " << warning << "\n";
    }
    printStructures(set);
    for (const auto& warning : ct.info().warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    for (const auto& warning : set.warnings())
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    std::cout << "wrote " << arguments.out << "\n";
    if (!arguments.dicomSegOut.empty())
        std::cout << "wrote " << arguments.dicomSegOut << "\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "segment",
    "Segment a CT automatically into a .seg.nrrd: body, bone (with cancellous bone), spinal canal, vertebrae "
    "with their levels (L1-L5, sacrum), lung and bowel gas",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<SegmentArguments>();
        command
            .add_option("--image", arguments->image,
                        "CT: DICOM file, folder, DICOMDIR, or NRRD/NIfTI/MetaImage")
            ->required();
        command.add_option("--series", arguments->seriesIndex, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        command.add_option("--out", arguments->out, "output segmentation (.seg.nrrd)")->required();
        command.add_option("--only", arguments->only,
                           "comma-separated subset of body,bone,lung,bowel_gas,spinal_canal,vertebrae "
                           "(default: all)");
        command.add_option(
            "--lowest-lumbar", arguments->options.lowestLumbar,
            "correct the level count: name of the lowest lumbar vertebra found (default: L5 "
            "above the sacrum; e.g. L6 with six lumbar vertebrae, L4 when the sacrum is out of view)");
        command.add_option("--body-hu", arguments->options.bodyThresholdHu,
                           "body threshold in HU (default -400)");
        command.add_option("--bone-hu", arguments->options.boneThresholdHu,
                           "bone threshold in HU (default 150)");
        command.add_option("--bone-edge-hu", arguments->options.boneEdgeHu,
                           "partial volume: voxels at or above this that touch bone are bone (default 100)");
        command.add_option("--marrow-hu", arguments->options.marrowMinMeanHu,
                           "holes enclosed by bone with at least this mean HU are marrow (default 60)");
        command.add_option("--lung-hu", arguments->options.lungThresholdHu,
                           "lung/air threshold in HU (default -400)");
        command.add_option("--table-radius-mm", arguments->options.tableRemovalRadiusMm,
                           "opening radius that cuts the table off the body (default 3, 0 disables)");
        command.add_option("--seg-dicom", arguments->dicomSegOut,
                           "also write a DICOM SEG referencing the CT");
        return [arguments] { return runSegment(*arguments); };
    }};

} // namespace

} // namespace np::cli
