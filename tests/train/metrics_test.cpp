// metrics.csv round trips and the confusion matrix's counts.
#include "nabla/train/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/temp_dir.h"
#include "nabla/error.h"

namespace nabla::train {
namespace {

TEST(MetricsCsv, RoundTripsEveryValueExactlyAndLeavesMissingValidationEmpty) {
  testing::TempDir dir;
  std::vector<EpochMetrics> rows = {{1, 1e-3, 0.6021, 0.7795, 0.4312, 0.8442, 41.3, 1306.5},
                                    {2, 1.0 / 3, 0.1 + 0.2, 0.5, NAN, NAN, 1e-9, 12345.678}};
  write_metrics_csv(dir.file("m.csv"), rows);
  const auto back = read_metrics_csv(dir.file("m.csv"));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].epoch, 1);
  EXPECT_EQ(back[0].val_acc, 0.8442);
  EXPECT_EQ(back[1].lr, 1.0 / 3);
  EXPECT_EQ(back[1].train_loss, 0.1 + 0.2);
  EXPECT_FALSE(back[1].has_validation());
  EXPECT_TRUE(back[0].has_validation());
  EXPECT_EQ(back[1].images_per_s, 12345.678);
  EXPECT_EQ(metrics_csv_row(rows[1]).find("nan"), std::string::npos);
}

TEST(MetricsCsv, MalformedFilesNameTheLine) {
  testing::TempDir dir;
  testing::write_text(dir.file("header.csv"), "epoch,loss\n1,2\n");
  EXPECT_THROW(read_metrics_csv(dir.file("header.csv")), Error);
  testing::write_text(dir.file("cell.csv"), metrics_csv_header() + "\n1,0.1,x,0,0,0,0,0\n");
  try {
    read_metrics_csv(dir.file("cell.csv"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2, column train_loss: 'x'"), std::string::npos)
        << e.what();
  }
  testing::write_text(dir.file("short.csv"), metrics_csv_header() + "\n1,0.1\n");
  EXPECT_THROW(read_metrics_csv(dir.file("short.csv")), Error);
  EXPECT_THROW(read_metrics_csv(dir.file("missing.csv")), Error);
}

TEST(ConfusionMatrix, CountsAccuracyAndPerClassRecall) {
  ConfusionMatrix m(3);
  // truth 0: 3 right, 1 called 2; truth 1: 1 right; truth 2: none.
  for (auto [t, p] : std::vector<std::pair<int, int>>{{0, 0}, {0, 0}, {0, 0}, {0, 2}, {1, 1}})
    m.add(t, p);
  EXPECT_EQ(m.total(), 5);
  EXPECT_EQ(m.count(0, 2), 1);
  EXPECT_EQ(m.support(0), 4);
  EXPECT_DOUBLE_EQ(m.accuracy(), 4.0 / 5);
  const auto per_class = m.per_class_accuracy();
  EXPECT_DOUBLE_EQ(per_class[0], 0.75);
  EXPECT_DOUBLE_EQ(per_class[1], 1.0);
  EXPECT_TRUE(std::isnan(per_class[2]));
  EXPECT_THROW(m.add(3, 0), Error);
  EXPECT_THROW(m.add(0, -1), Error);

  const std::string table = format_confusion_matrix(m, {"cat", "dog", "bird"});
  EXPECT_NE(table.find("cat    3    0    1"), std::string::npos) << table;
  EXPECT_THROW(format_confusion_matrix(m, {"cat"}), Error);
}

}  // namespace
}  // namespace nabla::train
