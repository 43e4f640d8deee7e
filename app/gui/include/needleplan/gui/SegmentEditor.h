#pragma once
/// The clinician's segmentation tools, widget-free: paint and erase with a 2D disc or 3D sphere
/// brush (radius in mm, optionally limited to an HU range), seeded region growing (ITK's
/// ConnectedThreshold or ConfidenceConnected, with the seed's statistics), and new structures with
/// the terminology's default class and margin. Each stroke, growth or new structure is one undo
/// step that stores only the voxels it changed. Edits go through StructuresModel::setLabels, so the
/// plan keeps the clearance fields of the structures that did not change and marks its search
/// results stale.

#include "needleplan/gui/LabelEditing.h"
#include "needleplan/imaging/RegionGrowing.h"
#include "needleplan/planning/Structure.h"

#include <QObject>
#include <QString>
#include <optional>

class QUndoStack;

namespace np::gui {

class ImageModel;
class SliceViewWidget;
class StructuresModel;

enum class SegmentTool
{
    Paint,
    Erase,
    Grow,
};

struct SegmentSettings
{
    SegmentTool tool = SegmentTool::Paint;
    BrushShape shape = BrushShape::Disc;
    double radiusMm = 5.0;
    bool thresholdLimited = false; ///< paint only voxels with HU in [minHu, maxHu]
    double minHu = -100.0;         ///< also the range of ConnectedThreshold growing
    double maxHu = 300.0;
    imaging::RegionGrowMethod growMethod = imaging::RegionGrowMethod::ConnectedThreshold;
    double confidenceMultiplier = 2.5;
    double growLimitMm = 100.0;   ///< a growth stays within this half-width (mm) of its seed
    bool overwriteOthers = false; ///< paint over (erase) other structures' voxels too
    std::uint16_t labelValue = 0; ///< the structure edited
};

class SegmentEditor : public QObject
{
    Q_OBJECT
public:
    SegmentEditor(const ImageModel& image, StructuresModel& structures, QUndoStack& undo,
                  QObject* parent = nullptr);
    ~SegmentEditor() override;

    const SegmentSettings& settings() const { return m_settings; }
    void setSettings(const SegmentSettings& settings);

    /// The class and margin the terminology gives a structure of this name.
    static planning::StructureSpec defaultsForName(const QString& name);
    /// Adds an empty structure (creating the label map on the image's grid when there is none) as
    /// one undo step and makes it the one edited; its label value, or 0 (and errorOccurred) when
    /// there is no image or the name is empty or taken.
    std::uint16_t addStructure(const QString& name, planning::StructureClass structureClass, double marginMm);

    /// A stroke of the paint or erase brush: its dabs along the mouse path (disc in the plane of
    /// normal `planeNormalLps`, slices `sliceStepMm` apart) make one undo step when it ends.
    void beginStroke(const Vec3& pointLps, const Vec3& planeNormalLps, double sliceStepMm);
    void continueStroke(const Vec3& pointLps);
    /// Applies the stroke; false when it changed nothing.
    bool endStroke();
    bool stroking() const { return m_stroking; }
    /// Grows a region of the edited structure from the seed (one undo step); false when it changed
    /// nothing or failed (errorOccurred).
    bool growFrom(const Vec3& seedLps);
    /// Statistics of the last seed's neighbourhood (nullopt before the first growth).
    const std::optional<imaging::SeedStatistics>& seedStatistics() const { return m_seedStats; }
    /// "Seed mean 41 HU, SD 12 HU, range 20…60 HU (27 voxels)".
    static QString seedStatisticsText(const imaging::SeedStatistics& stats);

    /// Routes a slice view's strokes (its clicks and drags while the pick mode is Segment) here.
    void attachSliceView(SliceViewWidget* view);

signals:
    void seedStatisticsChanged(const QString& text);
    /// An edit was made: "Paint nerve_root_L4_left: 81 voxels".
    void edited(const QString& summary);
    void errorOccurred(const QString& title, const QString& message);

private:
    /// Checks that there is an image and an edited structure; errorOccurred otherwise.
    bool ready(const QString& what);
    QString structureName(std::uint16_t value) const;
    void addDab(const Vec3& pointLps);
    bool commit(const std::vector<std::int64_t>& voxels, EditMode mode, const QString& what);

    const ImageModel& m_image;
    StructuresModel& m_structures;
    QUndoStack& m_undo;
    SegmentSettings m_settings;
    bool m_stroking = false;
    Brush m_strokeBrush;
    Vec3 m_lastDabLps;
    std::vector<std::int64_t> m_strokeVoxels;
    std::optional<imaging::SeedStatistics> m_seedStats;
};

} // namespace np::gui
