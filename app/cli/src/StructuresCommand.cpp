// needleplan-cli structures import FILE --reference PATH [--series N] --out structures.seg.nrrd
//   [--color-table FILE] [--seg-dicom FILE]
// needleplan-cli structures export --structures FILE --reference PATH [--series N] --out F.dcm

#include "CliCommand.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/StructureImport.h"
#include "needleplan/planning/Structure.h"

#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <memory>

namespace np::cli {

namespace {

struct ImportArguments
{
    std::string file;
    std::string reference;
    int seriesIndex = -1;
    std::string out;
    std::string colorTable;
    std::string dicomSegOut;
};

int runImport(const ImportArguments& arguments)
{
    imaging::LoadOptions load;
    load.seriesIndex = arguments.seriesIndex;
    const imaging::Volume ct = imaging::loadVolume(arguments.reference, load);
    imaging::StructureImportOptions options;
    options.colorTablePath = arguments.colorTable;
    const imaging::StructureSet set = imaging::importStructures(arguments.file, ct, options);
    const std::int64_t overlaps = set.overlapVoxelCount();
    imaging::writeSegNrrd(set.toLabelMap(), arguments.out);
    if (!arguments.dicomSegOut.empty())
        imaging::writeDicomSeg(set, ct, arguments.dicomSegOut);
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
    for (const auto& warning : set.warnings())
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    if (overlaps > 0)
        std::cerr << "needleplan-cli: warning: " << overlaps
                  << " voxels belong to several structures; the .seg.nrrd keeps the one listed last\n";
    std::cout << "wrote " << arguments.out << "\n";
    if (!arguments.dicomSegOut.empty())
        std::cout << "wrote " << arguments.dicomSegOut << "\n";
    return ExitSuccess;
}

struct ExportArguments
{
    std::string structures;
    std::string reference;
    int seriesIndex = -1;
    std::string out;
    std::string colorTable;
    std::string seriesDescription = "NeedlePlan structures";
};

/// Structures (any format `structures import` reads) onto the reference CT, written as a DICOM SEG
/// in the CT's study.
int runExport(const ExportArguments& arguments)
{
    imaging::LoadOptions load;
    load.seriesIndex = arguments.seriesIndex;
    const imaging::Volume ct = imaging::loadVolume(arguments.reference, load);
    imaging::StructureImportOptions options;
    options.colorTablePath = arguments.colorTable;
    const imaging::StructureSet set = imaging::importStructures(arguments.structures, ct, options);
    imaging::DicomSegWriteOptions segOptions;
    segOptions.seriesDescription = arguments.seriesDescription;
    const auto warnings = imaging::writeDicomSeg(set, ct, arguments.out, segOptions);
    for (const auto& warning : set.warnings())
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    for (const auto& warning : warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    int withVoxels = 0;
    for (const auto& s : set.structures())
        withVoxels += s.voxelCount() > 0;
    std::cout << "wrote " << arguments.out << " (" << set.structures().size() << " segments, " << withVoxels
              << " with voxels)\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "structures", "Import clinicians' structures (DICOM SEG, RTSTRUCT, label map) onto a CT",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<ImportArguments>();
        command.require_subcommand(1);
        CLI::App* import =
            command.add_subcommand("import", "Import a SEG, RTSTRUCT or label map onto the reference CT");
        import
            ->add_option("FILE", arguments->file,
                         "DICOM SEG, RTSTRUCT, .seg.nrrd, or a label NRRD/NIfTI/MetaImage")
            ->required();
        import->add_option("--reference", arguments->reference, "the CT the structures belong to")
            ->required();
        import->add_option("--series", arguments->seriesIndex, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        import->add_option("--out", arguments->out, "output segmentation (.seg.nrrd)")->required();
        import->add_option("--color-table", arguments->colorTable,
                           "Slicer .ctbl or ITK-SNAP label description");
        import->add_option("--seg-dicom", arguments->dicomSegOut,
                           "also write a DICOM SEG referencing the CT");
        auto exportArguments = std::make_shared<ExportArguments>();
        CLI::App* exporter = command.add_subcommand(
            "export", "Write structures as a DICOM SEG in the reference CT's study (dciodvfy-clean)");
        exporter
            ->add_option("--structures", exportArguments->structures,
                         "structures to write: .seg.nrrd, label map, DICOM SEG or RTSTRUCT")
            ->required();
        exporter->add_option("--reference", exportArguments->reference, "the CT the structures belong to")
            ->required();
        exporter->add_option("--series", exportArguments->seriesIndex, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        exporter->add_option("--out", exportArguments->out, "output DICOM SEG file")->required();
        exporter->add_option("--color-table", exportArguments->colorTable,
                             "Slicer .ctbl or ITK-SNAP label description for a label map");
        exporter->add_option("--series-description", exportArguments->seriesDescription,
                             "Series Description of the SEG");
        return [arguments, import, exportArguments, exporter]() -> int {
            if (import->parsed())
                return runImport(*arguments);
            if (exporter->parsed())
                return runExport(*exportArguments);
            std::cerr << "needleplan-cli: structures: no subcommand given (see --help)\n";
            return ExitBadInput;
        };
    }};

} // namespace

} // namespace np::cli
