// needleplan-cli structures import FILE|FOLDER --reference PATH [--series N] --out structures.seg.nrrd
//   [--color-table FILE] [--class-map NAME] [--seg-dicom FILE]
// needleplan-cli structures export --structures FILE|FOLDER --reference PATH [--series N] --out F.dcm

#include "CliCommand.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/StructureImport.h"
#include "needleplan/imaging/TotalSegmentatorImport.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/planning/Terminology.h"

#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <memory>

namespace np::cli {

std::map<std::uint16_t, std::string> classMapFor(const std::string& name)
{
    if (name.empty())
        return {};
    const auto& table = planning::Terminology::builtIn();
    auto map = table.classMap(name);
    if (map.empty()) {
        std::string known;
        for (const auto& n : table.classMapNames())
            known += (known.empty() ? "" : ", ") + n;
        throw Error(ErrorCode::InvalidArgument,
                    "--class-map \"" + name + "\" is not known (known: " + known + ")");
    }
    return map;
}

namespace {

struct ImportArguments
{
    std::string file;
    std::string reference;
    int seriesIndex = -1;
    std::string out;
    std::string colorTable;
    std::string classMap;
    std::string dicomSegOut;
};

/// Prints one structure's line: name, voxels, volume, and the planner's default rule with the rule
/// that gave it (the user can override it when planning).
void printStructure(const imaging::Segment& segment, std::int64_t voxels, double voxelVolumeMl,
                    std::vector<std::string>& warnings)
{
    std::cout << std::left << std::setw(28) << segment.name << std::right << std::setw(12) << voxels
              << " voxels " << std::fixed << std::setprecision(2) << std::setw(10)
              << double(voxels) * voxelVolumeMl << " ml  ";
    const auto spec = planning::classifySegment(segment, &warnings);
    std::cout << planning::toString(spec.structureClass) << " " << std::setprecision(1) << spec.marginMm
              << " mm  [" << spec.rule << "]\n";
}

/// Writes a DICOM SEG whose segments carry the SNOMED CT codes of planning's terminology table
/// (or the codes they were read with); the writer's warnings are added to `warnings`.
void writeSegWithCodes(const imaging::StructureSet& set, const imaging::Volume& ct, const std::string& path,
                       imaging::DicomSegWriteOptions options, std::vector<std::string>& warnings)
{
    options.coding = planning::segmentCodingFor;
    for (auto& warning : imaging::writeDicomSeg(set, ct, path, options))
        warnings.push_back(std::move(warning));
}

int runImport(const ImportArguments& arguments)
{
    imaging::LoadOptions load;
    load.seriesIndex = arguments.seriesIndex;
    const imaging::Volume ct = imaging::loadVolume(arguments.reference, load);
    std::vector<std::string> warnings;
    std::vector<std::string> classificationWarnings;
    const auto& g = ct.geometry();
    const double voxelVolumeMl = g.spacing.x * g.spacing.y * g.spacing.z / 1000.0;
    if (arguments.colorTable.empty() &&
        (imaging::isTotalSegmentatorFolder(arguments.file) || imaging::isNiftiFile(arguments.file))) {
        // TotalSegmentator's output folder or multilabel NIfTI (label names from its header), kept
        // as one label map on the CT grid (its masks do not overlap).
        imaging::TotalSegmentatorImportOptions options;
        options.classMap = classMapFor(arguments.classMap);
        const imaging::LabelMap labels =
            imaging::importTotalSegmentator(arguments.file, ct, options, &warnings);
        imaging::writeSegNrrd(labels, arguments.out);
        if (!arguments.dicomSegOut.empty())
            writeSegWithCodes(imaging::StructureSet::fromLabelMap(labels), ct, arguments.dicomSegOut, {},
                              warnings);
        std::vector<std::int64_t> counts(65536, 0);
        for (const std::uint16_t value : labels.labels())
            ++counts[value];
        for (const auto& segment : labels.segments())
            printStructure(segment, counts[segment.labelValue], voxelVolumeMl, classificationWarnings);
    } else {
        imaging::StructureImportOptions options;
        options.colorTablePath = arguments.colorTable;
        const imaging::StructureSet set = imaging::importStructures(arguments.file, ct, options);
        warnings = set.warnings();
        const std::int64_t overlaps = set.overlapVoxelCount();
        imaging::writeSegNrrd(set.toLabelMap(), arguments.out);
        if (!arguments.dicomSegOut.empty())
            writeSegWithCodes(set, ct, arguments.dicomSegOut, {}, warnings);
        for (const auto& s : set.structures())
            printStructure(s.segment, s.voxelCount(), voxelVolumeMl, classificationWarnings);
        if (overlaps > 0)
            warnings.push_back(
                std::to_string(overlaps) +
                " voxels belong to several structures; the .seg.nrrd keeps the one listed last");
    }
    for (const auto& warning : warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    for (const auto& warning : classificationWarnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
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
    std::string classMap;
    std::string seriesDescription = "NeedlePlan structures";
};

/// Structures (any format `structures import` reads) onto the reference CT, written as a DICOM SEG
/// in the CT's study.
int runExport(const ExportArguments& arguments)
{
    imaging::LoadOptions load;
    load.seriesIndex = arguments.seriesIndex;
    const imaging::Volume ct = imaging::loadVolume(arguments.reference, load);
    std::vector<std::string> warnings;
    imaging::StructureSet set;
    if (arguments.colorTable.empty() && (imaging::isTotalSegmentatorFolder(arguments.structures) ||
                                         imaging::isNiftiFile(arguments.structures))) {
        imaging::TotalSegmentatorImportOptions options;
        options.classMap = classMapFor(arguments.classMap);
        set = imaging::StructureSet::fromLabelMap(
            imaging::importTotalSegmentator(arguments.structures, ct, options, &warnings));
    } else {
        imaging::StructureImportOptions options;
        options.colorTablePath = arguments.colorTable;
        set = imaging::importStructures(arguments.structures, ct, options);
        warnings = set.warnings();
    }
    imaging::DicomSegWriteOptions segOptions;
    segOptions.seriesDescription = arguments.seriesDescription;
    writeSegWithCodes(set, ct, arguments.out, segOptions, warnings);
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
    "structures",
    "Import clinicians' structures (DICOM SEG, RTSTRUCT, label map, TotalSegmentator) onto a CT",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<ImportArguments>();
        command.require_subcommand(1);
        CLI::App* import =
            command.add_subcommand("import", "Import a SEG, RTSTRUCT or label map onto the reference CT");
        import
            ->add_option("FILE", arguments->file,
                         "DICOM SEG, RTSTRUCT, .seg.nrrd, a label NRRD/MetaImage, a TotalSegmentator output "
                         "folder (segmentations/<name>.nii.gz) or multilabel NIfTI")
            ->required();
        import->add_option("--reference", arguments->reference, "the CT the structures belong to")
            ->required();
        import->add_option("--series", arguments->seriesIndex, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        import->add_option("--out", arguments->out, "output segmentation (.seg.nrrd)")->required();
        import->add_option("--color-table", arguments->colorTable,
                           "Slicer .ctbl or ITK-SNAP label description");
        import->add_option("--class-map", arguments->classMap,
                           "names for a multilabel NIfTI without a label table in its header: "
                           "totalsegmentator-v2 or totalsegmentator-v1");
        import->add_option("--seg-dicom", arguments->dicomSegOut,
                           "also write a DICOM SEG referencing the CT");
        auto exportArguments = std::make_shared<ExportArguments>();
        CLI::App* exporter = command.add_subcommand(
            "export", "Write structures as a DICOM SEG in the reference CT's study (dciodvfy-clean)");
        exporter
            ->add_option("--structures", exportArguments->structures,
                         "structures to write: .seg.nrrd, label map, DICOM SEG, RTSTRUCT, a "
                         "TotalSegmentator output folder or multilabel NIfTI. Each segment carries the "
                         "SNOMED CT category and type codes of the terminology table (by name), or the "
                         "codes it was read with")
            ->required();
        exporter->add_option("--reference", exportArguments->reference, "the CT the structures belong to")
            ->required();
        exporter->add_option("--series", exportArguments->seriesIndex, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        exporter->add_option("--out", exportArguments->out, "output DICOM SEG file")->required();
        exporter->add_option("--color-table", exportArguments->colorTable,
                             "Slicer .ctbl or ITK-SNAP label description for a label map");
        exporter->add_option("--class-map", exportArguments->classMap,
                             "names for a multilabel NIfTI without a label table: totalsegmentator-v2 or "
                             "totalsegmentator-v1");
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
