// The retrieval progress stage: written with the counts, read back by the workstation.

#include "needleplan/imaging/PacsClient.h"

#include <gtest/gtest.h>

using namespace np::imaging;

TEST(PacsProgressStage, CountsRoundTripThroughTheStageText)
{
    EXPECT_EQ(retrieveProgressStage({3, 165}), "received 3 of 165 instances");
    EXPECT_EQ(retrieveProgressStage({7, 0}), "received 7 instances");
    PacsInstanceCount count;
    ASSERT_TRUE(parseRetrieveProgressStage("received 3 of 165 instances", count));
    EXPECT_EQ(count.received, 3);
    EXPECT_EQ(count.expected, 165);
    ASSERT_TRUE(parseRetrieveProgressStage("received 7 instances", count));
    EXPECT_EQ(count.received, 7);
    EXPECT_EQ(count.expected, 0);
}

TEST(PacsProgressStage, OtherStagesAreNotCounts)
{
    PacsInstanceCount count{4, 9};
    for (const char* stage : {"requesting series 1.2.3", "", "received", "received x of 3 instances",
                              "sent 3 of 9 instances", "received -1 of 3 instances"})
        EXPECT_FALSE(parseRetrieveProgressStage(stage, count)) << stage;
    EXPECT_EQ(count.received, 4);
    EXPECT_EQ(count.expected, 9);
}
