//! Runs the built `ferrometrics` binary on files written to a temporary directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{array, Array1, Array2, ShapeBuilder};
use ndarray_npy::write_npy;
use serde_json::Value;

const EXTRINSIC_KEYS: [&str; 10] = [
    "mutual_info_score",
    "normalized_mutual_info_score",
    "adjusted_mutual_info_score",
    "rand_score",
    "adjusted_rand_score",
    "fowlkes_mallows_index",
    "homogeneity_score",
    "completeness_score",
    "v_measure_score",
    "cluster_accuracy",
];

const INTRINSIC_KEYS: [&str; 4] = [
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "dunn_index",
    "silhouette_score",
];

/// Two well separated clusters of three points each, with true labels that one cluster
/// boundary gets wrong.
const BLOBS_CSV: &str = "\
x,y,target,preds
0.0,0.0,0,5
0.0,1.0,0,5
1.0,0.0,1,5
10.0,10.0,1,7
10.0,11.0,1,7
11.0,10.0,1,7
";

/// A directory under the system temporary directory, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("ferrometrics-cli-{}-{test}-{unique}", std::process::id());
        let path = std::env::temp_dir().join(name);
        fs::create_dir_all(&path).expect("create the temporary directory");
        Self { path }
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path.join(name);
        fs::write(&path, contents).expect("write the temporary file");
        path
    }

    fn npy<A, D>(&self, name: &str, array: &ndarray::Array<A, D>) -> PathBuf
    where
        A: ndarray_npy::WritableElement,
        D: ndarray::Dimension,
    {
        let path = self.path.join(name);
        write_npy(&path, array).expect("write the temporary .npy file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_ferrometrics"))
        .args(args)
        .output()
        .expect("run the ferrometrics binary")
}

fn path_arg(path: &Path) -> String {
    path.to_str().expect("temporary paths are UTF-8").to_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Checks that the run failed with status 2 and one error line containing every fragment.
fn assert_input_error(output: &Output, fragments: &[&str]) {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.starts_with("ferrometrics: error: "),
        "stderr: {stderr}"
    );
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "missing {fragment:?} in: {stderr}"
        );
    }
}

fn parse_json(output: &Output) -> serde_json::Map<String, Value> {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    match serde_json::from_str(&stdout(output)).expect("stdout is JSON") {
        Value::Object(map) => map,
        other => panic!("expected one JSON object, got {other}"),
    }
}

fn sorted_keys(map: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = map.keys().cloned().collect();
    keys.sort();
    keys
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    names.sort();
    names
}

fn csv_args(file: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["clustering".to_owned(), path_arg(file)];
    args.extend(["--target", "target", "--preds", "preds"].map(String::from));
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args
}

#[test]
fn json_keys_extrinsic_from_csv() {
    let dir = TempDir::new("json-keys-extrinsic");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let json = parse_json(&run(csv_args(&file, &["--format", "json"])));

    assert_eq!(sorted_keys(&json), sorted(&EXTRINSIC_KEYS));
}

#[test]
fn json_keys_extrinsic_and_intrinsic() {
    let dir = TempDir::new("json-keys-both");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run(csv_args(&file, &["--all-features", "--format", "json"]));
    let json = parse_json(&output);

    let all: Vec<&str> = EXTRINSIC_KEYS
        .iter()
        .chain(&INTRINSIC_KEYS)
        .copied()
        .collect();
    assert_eq!(sorted_keys(&json), sorted(&all));
    assert!(output.stderr.is_empty(), "stderr: {}", stderr(&output));
}

#[test]
fn json_values_match_scikit_learn() {
    let dir = TempDir::new("json-values");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let json = parse_json(&run(csv_args(
        &file,
        &["--features", "x,y", "--format", "json"],
    )));

    // sklearn.metrics.rand_score([0, 0, 1, 1, 1, 1], [5, 5, 5, 7, 7, 7]) = 10 / 15.
    assert_eq!(json["rand_score"].as_f64(), Some(10.0 / 15.0));
    // Mapping cluster 5 to class 0 and cluster 7 to class 1 labels 5 of the 6 samples right.
    assert_eq!(json["cluster_accuracy"].as_f64(), Some(5.0 / 6.0));
    // sklearn.metrics.calinski_harabasz_score: between-cluster dispersion 300 over 1 degree of
    // freedom, within-cluster dispersion 8/3 over 4, which gives 450.
    let calinski = json["calinski_harabasz_score"].as_f64().expect("a number");
    assert!((calinski - 450.0).abs() < 1e-9 * 450.0, "got {calinski}");
}

#[test]
fn json_numbers_round_trip() {
    let dir = TempDir::new("json-round-trip");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let text = stdout(&run(csv_args(&file, &["--format", "json"])));
    let json: serde_json::Map<String, Value> = serde_json::from_str(&text).expect("JSON");

    for (name, value) in &json {
        let number = value.as_f64().expect("a number");
        let printed = serde_json::to_string(value).expect("serialize");
        assert_eq!(printed.parse::<f64>().ok(), Some(number), "{name}");
        assert!(text.contains(&printed), "{name} printed as {printed}");
    }
}

#[test]
fn table_has_header_rows_and_directions() {
    let dir = TempDir::new("table");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run(csv_args(&file, &["--features", "x,y"]));
    let text = stdout(&output);

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let header = text.lines().next().expect("a header line");
    assert!(header.contains("blobs.csv"), "header: {header}");
    assert!(header.contains("n = 6"), "header: {header}");
    for name in EXTRINSIC_KEYS.iter().chain(&INTRINSIC_KEYS) {
        assert!(text.contains(name), "missing {name} in:\n{text}");
    }
    let davies_bouldin = text
        .lines()
        .find(|line| line.contains("davies_bouldin_score"))
        .expect("a Davies-Bouldin row");
    assert!(
        davies_bouldin.contains("lower is better"),
        "row: {davies_bouldin}"
    );
    let rand = text
        .lines()
        .find(|line| line.contains("| rand_score"))
        .expect("a Rand row");
    assert!(rand.contains("higher is better"), "row: {rand}");
    assert!(rand.contains(&format!("{:?}", 10.0 / 15.0)), "row: {rand}");
}

#[test]
fn table_shows_undefined_silhouette() {
    let dir = TempDir::new("table-undefined");
    let file = dir.write("one.csv", "x,labels\n0.0,1\n1.0,1\n2.0,1\n");

    let output = run([
        "clustering",
        &path_arg(&file),
        "--features",
        "x",
        "--labels",
        "labels",
    ]);
    let text = stdout(&output);

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let silhouette = text
        .lines()
        .find(|line| line.contains("silhouette_score"))
        .expect("a silhouette row");
    assert!(silhouette.contains(" undefined |"), "row: {silhouette}");
    assert!(silhouette.contains("distinct label"), "row: {silhouette}");
}

#[test]
fn json_writes_undefined_as_null_with_reason() {
    let dir = TempDir::new("json-undefined");
    let file = dir.write("one.csv", "x,labels\n0.0,1\n1.0,1\n2.0,1\n");

    let output = run([
        "clustering",
        &path_arg(&file),
        "--features",
        "x",
        "--labels",
        "labels",
        "--format",
        "json",
    ]);
    let json = parse_json(&output);

    assert!(json["silhouette_score"].is_null());
    assert!(
        stderr(&output).contains("silhouette_score"),
        "stderr: {}",
        stderr(&output)
    );
}

#[test]
fn silhouette_skipped_above_max_rows() {
    let dir = TempDir::new("silhouette-skipped");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run(csv_args(
        &file,
        &[
            "--all-features",
            "--silhouette-max-rows",
            "5",
            "--format",
            "json",
        ],
    ));
    let json = parse_json(&output);

    assert!(json["silhouette_score"].is_null());
    assert!(
        stderr(&output).contains("--silhouette-sample-size"),
        "stderr: {}",
        stderr(&output)
    );
    assert!(json["dunn_index"].is_number());

    let table = stdout(&run(csv_args(
        &file,
        &["--all-features", "--silhouette-max-rows", "5"],
    )));
    let silhouette = table
        .lines()
        .find(|line| line.contains("silhouette_score"))
        .expect("a silhouette row");
    assert!(silhouette.contains(" skipped |"), "row: {silhouette}");
}

#[test]
fn silhouette_sample_of_all_rows_is_exact() {
    let dir = TempDir::new("silhouette-sample");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let exact = parse_json(&run(csv_args(
        &file,
        &["--all-features", "--format", "json"],
    )));
    let sampled = parse_json(&run(csv_args(
        &file,
        &[
            "--all-features",
            "--silhouette-sample-size",
            "6",
            "--format",
            "json",
        ],
    )));

    assert_eq!(sampled["silhouette_score"], exact["silhouette_score"]);
}

#[test]
fn silhouette_sample_is_seeded() {
    let dir = TempDir::new("silhouette-seed");
    let file = dir.write("blobs.csv", BLOBS_CSV);
    let options = [
        "--all-features",
        "--silhouette-sample-size",
        "4",
        "--seed",
        "7",
    ];

    let first = run(csv_args(&file, &options));
    let second = run(csv_args(&file, &options));
    let header = stdout(&first).lines().next().unwrap_or_default().to_owned();

    assert_eq!(first.status.code(), Some(0), "stderr: {}", stderr(&first));
    assert_eq!(stdout(&first), stdout(&second));
    assert!(
        header.contains("sample of 4 rows, seed 7"),
        "header: {header}"
    );
}

#[test]
fn no_silhouette_omits_key() {
    let dir = TempDir::new("no-silhouette");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let json = parse_json(&run(csv_args(
        &file,
        &["--all-features", "--no-silhouette", "--format", "json"],
    )));

    assert!(!json.contains_key("silhouette_score"));
    assert!(json.contains_key("dunn_index"));
}

#[test]
fn labels_default_to_preds() {
    let dir = TempDir::new("labels-default");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let by_default = parse_json(&run(csv_args(
        &file,
        &["--all-features", "--format", "json"],
    )));
    let explicit = parse_json(&run(csv_args(
        &file,
        &["--features", "x,y", "--labels", "preds", "--format", "json"],
    )));

    assert_eq!(by_default, explicit);
}

#[test]
fn npy_labels_of_several_dtypes_agree() {
    let dir = TempDir::new("npy-dtypes");
    let target = dir.npy("target.npy", &array![0i64, 0, 1, 1, 1, 1]);
    let preds_i64 = dir.npy("preds_i64.npy", &array![5i64, 5, 5, 7, 7, 7]);
    let preds_i32 = dir.npy("preds_i32.npy", &array![5i32, 5, 5, 7, 7, 7]);
    let preds_u8 = dir.npy("preds_u8.npy", &array![5u8, 5, 5, 7, 7, 7]);
    let preds_column = dir.npy("preds_column.npy", &array![[5i16], [5], [5], [7], [7], [7]]);

    let score = |preds: &Path| {
        parse_json(&run([
            "clustering",
            "--target-npy",
            &path_arg(&target),
            "--preds-npy",
            &path_arg(preds),
            "--format",
            "json",
        ]))
    };
    let reference = score(&preds_i64);

    assert_eq!(reference["rand_score"].as_f64(), Some(10.0 / 15.0));
    assert_eq!(score(&preds_i32), reference);
    assert_eq!(score(&preds_u8), reference);
    assert_eq!(score(&preds_column), reference);
}

#[test]
fn npy_features_match_csv() {
    let dir = TempDir::new("npy-features");
    let csv = dir.write("blobs.csv", BLOBS_CSV);
    let data: Array2<f64> = array![
        [0.0, 0.0],
        [0.0, 1.0],
        [1.0, 0.0],
        [10.0, 10.0],
        [10.0, 11.0],
        [11.0, 10.0]
    ];
    let mut fortran = Array2::<f64>::zeros((6, 2).f());
    fortran.assign(&data);
    let labels: Array1<i64> = array![5, 5, 5, 7, 7, 7];
    let c_order = dir.npy("data.npy", &data);
    let f_order = dir.npy("data_fortran.npy", &fortran);
    let float32 = dir.npy("data_f32.npy", &data.mapv(|x| x as f32));
    let labels = dir.npy("labels.npy", &labels);

    let from_csv = parse_json(&run([
        "clustering",
        &path_arg(&csv),
        "--features",
        "x,y",
        "--labels",
        "preds",
        "--format",
        "json",
    ]));
    let score = |data: &Path| {
        parse_json(&run([
            "clustering",
            "--data",
            &path_arg(data),
            "--labels",
            &path_arg(&labels),
            "--format",
            "json",
        ]))
    };

    assert_eq!(sorted_keys(&from_csv), sorted(&INTRINSIC_KEYS));
    assert_eq!(score(&c_order), from_csv);
    assert_eq!(score(&f_order), from_csv);
    // The points are small integers, exact in float32.
    for (name, value) in score(&float32) {
        let expected = from_csv[&name].as_f64().expect("a number");
        let got = value.as_f64().expect("a number");
        assert!(
            (got - expected).abs() <= 1e-6 * expected.abs(),
            "{name}: {got}"
        );
    }
}

#[test]
fn error_missing_csv_file() {
    let dir = TempDir::new("missing-file");
    let file = dir.path.join("absent.csv");

    let output = run(csv_args(&file, &[]));

    assert_input_error(&output, &["absent.csv", "not found"]);
}

#[test]
fn error_missing_npy_file() {
    let dir = TempDir::new("missing-npy");
    let target = dir.npy("target.npy", &array![0i64, 1]);
    let absent = dir.path.join("absent.npy");

    let output = run([
        "clustering",
        "--target-npy",
        &path_arg(&target),
        "--preds-npy",
        &path_arg(&absent),
    ]);

    assert_input_error(&output, &["absent.npy", "not found"]);
}

#[test]
fn error_missing_column() {
    let dir = TempDir::new("missing-column");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run([
        "clustering",
        &path_arg(&file),
        "--target",
        "truth",
        "--preds",
        "preds",
    ]);

    assert_input_error(&output, &["blobs.csv", "column \"truth\"", "not found"]);
}

#[test]
fn error_missing_feature_column() {
    let dir = TempDir::new("missing-feature");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run(csv_args(&file, &["--features", "x,z"]));

    assert_input_error(&output, &["blobs.csv", "column \"z\""]);
}

#[test]
fn error_non_integer_label() {
    let dir = TempDir::new("non-integer-label");
    let file = dir.write("labels.csv", "target,preds\n0,1\n1,2.5\n");

    let output = run(csv_args(&file, &[]));

    assert_input_error(&output, &["labels.csv", "line 3", "\"preds\"", "\"2.5\""]);
}

#[test]
fn error_label_outside_int64() {
    let dir = TempDir::new("huge-label");
    let file = dir.write("labels.csv", "target,preds\n0,1\n1,99999999999999999999\n");

    let output = run(csv_args(&file, &[]));

    assert_input_error(
        &output,
        &["labels.csv", "line 3", "\"preds\"", "int64 range"],
    );
}

#[test]
fn error_text_label() {
    let dir = TempDir::new("text-label");
    let file = dir.write("labels.csv", "target,preds\nsetosa,1\n");

    let output = run(csv_args(&file, &[]));

    assert_input_error(
        &output,
        &["labels.csv", "line 2", "\"target\"", "\"setosa\""],
    );
}

#[test]
fn integral_float_label_accepted() {
    let dir = TempDir::new("integral-float-label");
    let floats = dir.write("floats.csv", "target,preds\n0,1.0\n1,2.0\n1,2.0\n");
    let ints = dir.write("ints.csv", "target,preds\n0,1\n1,2\n1,2\n");

    let from_floats = parse_json(&run(csv_args(&floats, &["--format", "json"])));
    let from_ints = parse_json(&run(csv_args(&ints, &["--format", "json"])));

    assert_eq!(from_floats, from_ints);
}

#[test]
fn error_nan_feature_in_csv() {
    let dir = TempDir::new("nan-csv");
    let file = dir.write("blobs.csv", "x,y,target,preds\n0.0,1.0,0,0\n1.0,NaN,1,1\n");

    let output = run(csv_args(&file, &["--features", "x,y"]));

    assert_input_error(
        &output,
        &["blobs.csv", "line 3", "column \"y\"", "not finite"],
    );
}

#[test]
fn error_inf_feature_in_npy() {
    let dir = TempDir::new("inf-npy");
    let data = dir.npy(
        "data.npy",
        &array![[0.0f32, 1.0], [2.0, 3.0], [4.0, f32::INFINITY]],
    );
    let labels = dir.npy("labels.npy", &array![0i64, 0, 1]);

    let output = run([
        "clustering",
        "--data",
        &path_arg(&data),
        "--labels",
        &path_arg(&labels),
    ]);

    assert_input_error(&output, &["data.npy", "row 2", "column 1", "not finite"]);
}

#[test]
fn error_length_mismatch_npy_labels() {
    let dir = TempDir::new("mismatch-labels");
    let target = dir.npy("target.npy", &array![0i64, 0, 1]);
    let preds = dir.npy("preds.npy", &array![0i64, 1]);

    let output = run([
        "clustering",
        "--target-npy",
        &path_arg(&target),
        "--preds-npy",
        &path_arg(&preds),
    ]);

    assert_input_error(&output, &["preds.npy", "has 2 labels", "has 3"]);
}

#[test]
fn error_length_mismatch_data_labels() {
    let dir = TempDir::new("mismatch-data");
    let data = dir.npy("data.npy", &array![[0.0f64], [1.0], [2.0]]);
    let labels = dir.npy("labels.npy", &array![0i64, 1]);

    let output = run([
        "clustering",
        "--data",
        &path_arg(&data),
        "--labels",
        &path_arg(&labels),
    ]);

    assert_input_error(&output, &["labels.npy", "2 labels", "3 rows"]);
}

#[test]
fn error_length_mismatch_data_preds() {
    let dir = TempDir::new("mismatch-data-preds");
    let file = dir.write("blobs.csv", BLOBS_CSV);
    let data = dir.npy("short_data.npy", &array![[0.0f64], [1.0], [2.0]]);
    let labels = dir.npy("labels.npy", &array![0i64, 1, 1]);

    let output = run(csv_args(
        &file,
        &["--data", &path_arg(&data), "--labels", &path_arg(&labels)],
    ));

    assert_input_error(&output, &["short_data.npy", "3 rows", "6 labels"]);
}

#[test]
fn error_unequal_csv_rows() {
    let dir = TempDir::new("unequal-rows");
    let file = dir.write("ragged.csv", "target,preds\n0,1\n1\n");

    let output = run(csv_args(&file, &[]));

    assert_input_error(&output, &["ragged.csv", "line 3", "fields"]);
}

#[test]
fn error_empty_csv() {
    let dir = TempDir::new("empty-csv");
    let empty = dir.write("empty.csv", "");
    let header_only = dir.write("header.csv", "target,preds\n");

    assert_input_error(&run(csv_args(&empty, &[])), &["empty.csv", "empty"]);
    assert_input_error(
        &run(csv_args(&header_only, &[])),
        &["header.csv", "no data rows"],
    );
}

#[test]
fn error_empty_npy() {
    let dir = TempDir::new("empty-npy");
    let empty = dir.npy("empty.npy", &Array1::<i64>::zeros(0));

    let output = run([
        "clustering",
        "--target-npy",
        &path_arg(&empty),
        "--preds-npy",
        &path_arg(&empty),
    ]);

    assert_input_error(&output, &["empty.npy", "empty"]);
}

#[test]
fn error_float_npy_labels() {
    let dir = TempDir::new("float-labels");
    let target = dir.npy("target.npy", &array![0i64, 1]);
    let preds = dir.npy("float_preds.npy", &array![0.0f64, 1.0]);

    let output = run([
        "clustering",
        "--target-npy",
        &path_arg(&target),
        "--preds-npy",
        &path_arg(&preds),
    ]);

    assert_input_error(&output, &["float_preds.npy", "float64", "integer"]);
}

#[test]
fn error_integer_npy_features() {
    let dir = TempDir::new("integer-features");
    let data = dir.npy("int_data.npy", &array![[0i64], [1]]);
    let labels = dir.npy("labels.npy", &array![0i64, 1]);

    let output = run([
        "clustering",
        "--data",
        &path_arg(&data),
        "--labels",
        &path_arg(&labels),
    ]);

    assert_input_error(&output, &["int_data.npy", "int64", "float"]);
}

#[test]
fn error_one_dimensional_npy_features() {
    let dir = TempDir::new("one-dimensional-features");
    let data = dir.npy("flat.npy", &array![0.0f64, 1.0]);
    let labels = dir.npy("labels.npy", &array![0i64, 1]);

    let output = run([
        "clustering",
        "--data",
        &path_arg(&data),
        "--labels",
        &path_arg(&labels),
    ]);

    assert_input_error(&output, &["flat.npy", "shape (2,)", "2-D"]);
}

#[test]
fn error_not_an_npy_file() {
    let dir = TempDir::new("not-npy");
    let target = dir.write("target.npy", "0,1,2\n");

    let output = run([
        "clustering",
        "--target-npy",
        &path_arg(&target),
        "--preds-npy",
        &path_arg(&target),
    ]);

    assert_input_error(&output, &["target.npy", ".npy"]);
}

#[test]
fn error_bad_option_values() {
    let dir = TempDir::new("bad-options");
    let file = dir.write("blobs.csv", BLOBS_CSV);
    let cases: [(&[&str], &str); 8] = [
        (&["--beta", "0"], "--beta"),
        (&["--beta", "-1"], "--beta"),
        (&["--beta", "abc"], "--beta"),
        (&["--p", "0.5"], "--p"),
        (&["--average-method", "median"], "--average-method"),
        (&["--dunn-definition", "median"], "--dunn-definition"),
        (&["--format", "yaml"], "--format"),
        (
            &["--all-features", "--silhouette-sample-size", "2"],
            "--silhouette-sample-size",
        ),
    ];

    for (options, option) in cases {
        let output = run(csv_args(&file, options));
        assert_input_error(&output, &[option]);
    }
}

#[test]
fn error_bad_delimiter() {
    let dir = TempDir::new("bad-delimiter");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run(csv_args(&file, &["--delimiter", "é"]));

    assert_input_error(&output, &["--delimiter"]);
}

#[test]
fn error_labels_without_features() {
    let dir = TempDir::new("labels-without-features");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    let output = run(csv_args(&file, &["--labels", "preds"]));

    assert_input_error(&output, &["--labels", "--features"]);
}

#[test]
fn error_no_input_selected() {
    let dir = TempDir::new("no-input");
    let file = dir.write("blobs.csv", BLOBS_CSV);

    assert_input_error(
        &run(["clustering", &path_arg(&file)]),
        &["blobs.csv", "--target"],
    );
    assert_input_error(&run(["clustering"]), &["--target"]);
}

#[test]
fn usage_error_exits_2() {
    let output = run(["clustering", "--target", "target"]);

    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--preds"),
        "stderr: {}",
        stderr(&output)
    );
}

#[test]
fn help_lists_options_and_exits_0() {
    let top = run(["--help"]);
    let clustering = run(["clustering", "--help"]);
    let text = stdout(&clustering);

    assert_eq!(top.status.code(), Some(0));
    assert!(stdout(&top).contains("clustering"));
    assert_eq!(clustering.status.code(), Some(0));
    for option in [
        "--target",
        "--preds",
        "--target-npy",
        "--preds-npy",
        "--data",
        "--features",
        "--labels",
        "--average-method",
        "--beta",
        "--p",
        "--dunn-definition",
        "--silhouette-sample-size",
        "--silhouette-max-rows",
        "--no-silhouette",
        "--seed",
        "--format",
    ] {
        assert!(text.contains(option), "help lacks {option}");
    }
    assert!(
        text.contains("undefined"),
        "help does not explain undefined values"
    );
}

#[test]
fn version_exits_0() {
    let output = run(["--version"]);

    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains(env!("CARGO_PKG_VERSION")));
}

// The `detection` subcommand.

/// One image with a 20x20 box of category 1 ("cat"); category 2 ("dog") has no objects.
const DETECTION_GT: &str = r#"{
  "images": [{"id": 1, "height": 100, "width": 100}],
  "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20],
                   "area": 400, "iscrowd": 0}]
}"#;

/// One detection shifted by 2 pixels: IoU 360/440 = 0.818, above 7 of the 10 IoU thresholds.
const DETECTION_DT: &str =
    r#"[{"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": 0.9}]"#;

const DETECTION_KEYS: [&str; 12] = [
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
];

/// Writes the ground truth and the results to a temporary directory and runs `detection` on
/// them with the extra arguments.
fn run_detection(test: &str, truth: &str, results: &str, extra: &[&str]) -> Output {
    let dir = TempDir::new(test);
    let gt = dir.write("gt.json", truth);
    let dt = dir.write("dt.json", results);
    let mut args = vec![
        "detection".to_owned(),
        "--gt".to_owned(),
        path_arg(&gt),
        "--dt".to_owned(),
        path_arg(&dt),
    ];
    args.extend(extra.iter().map(|arg| arg.to_string()));
    run(args)
}

/// Returns the number printed for `key` in the JSON on stdout, parsed with Rust's correctly
/// rounded parser.
///
/// serde_json's default parser can be one unit in the last place off for 17-digit numbers (it
/// reads 0.9999999999999999 as 1.0), so exact comparisons read the printed digits.
fn json_f64(output: &Output, key: &str) -> f64 {
    json_f64s(output, key)[0]
}

/// Returns the numbers printed for `key`, a number or a list of numbers, in the JSON on stdout.
fn json_f64s(output: &Output, key: &str) -> Vec<f64> {
    let text = stdout(output);
    let pattern = format!("\"{key}\": ");
    let start = text
        .find(&pattern)
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        + pattern.len();
    let value = text[start..].lines().next().unwrap_or_default();
    value
        .trim_end_matches(',')
        .trim_matches(['[', ']'])
        .split(", ")
        .filter(|number| !number.is_empty())
        .map(|number| {
            number
                .parse()
                .unwrap_or_else(|_| panic!("{key}: {number:?} in {text}"))
        })
        .collect()
}

/// Results with `entry` as the second detection, after a valid one.
fn results_with_second(entry: &str) -> String {
    format!(
        "[{{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 20, 20], \"score\": 0.5}},\n \
         {entry}]"
    )
}

#[test]
fn detection_json_keys_in_torchmetrics_order() {
    let output = run_detection(
        "det-keys",
        DETECTION_GT,
        DETECTION_DT,
        &["--format", "json"],
    );
    let map = parse_json(&output);
    let text = stdout(&output);

    assert_eq!(sorted_keys(&map), sorted(&DETECTION_KEYS));
    let positions: Vec<usize> = DETECTION_KEYS
        .iter()
        .map(|key| text.find(&format!("\"{key}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
}

#[test]
fn detection_json_values_match_pycocotools() {
    let output = run_detection(
        "det-values",
        DETECTION_GT,
        DETECTION_DT,
        &["--format", "json"],
    );
    parse_json(&output);

    // pycocotools 2.0.11 COCOeval on these two files. Its precision of one true positive is
    // 1 / (1 + 2^-52), and its AP is a numpy mean over 10 x 101 such values.
    assert_eq!(json_f64(&output, "map"), 0.6999999999999998);
    assert_eq!(json_f64(&output, "map_50"), 0.9999999999999999);
    assert_eq!(json_f64(&output, "map_75"), 0.9999999999999999);
    assert_eq!(json_f64(&output, "map_small"), 0.6999999999999998);
    assert_eq!(json_f64(&output, "map_medium"), -1.0);
    assert_eq!(json_f64(&output, "mar_100"), 0.7);
}

#[test]
fn detection_json_per_class_keys() {
    let output = run_detection(
        "det-per-class",
        DETECTION_GT,
        DETECTION_DT,
        &["--format", "json", "--per-class"],
    );
    let map = parse_json(&output);

    let mut expected = DETECTION_KEYS.to_vec();
    expected.extend(["map_per_class", "mar_100_per_class", "classes"]);
    assert_eq!(sorted_keys(&map), sorted(&expected));
    // Category 2 has neither objects nor detections, so it is not a class of the output.
    assert_eq!(map["classes"], serde_json::json!([1]));
    assert_eq!(json_f64s(&output, "map_per_class"), [0.6999999999999998]);
    assert_eq!(json_f64s(&output, "mar_100_per_class"), [0.7]);
}

#[test]
fn detection_json_keys_follow_max_dets() {
    let output = run_detection(
        "det-max-dets",
        DETECTION_GT,
        DETECTION_DT,
        &["--format", "json", "--per-class", "--max-dets", "50,1,5"],
    );
    let map = parse_json(&output);

    for key in ["mar_1", "mar_5", "mar_50", "mar_50_per_class"] {
        assert!(map.contains_key(key), "missing {key} in {map:?}");
    }
    assert!(!map.contains_key("mar_100"));
    assert_eq!(json_f64(&output, "map"), 0.6999999999999998);
}

#[test]
fn detection_json_numbers_round_trip() {
    let output = run_detection(
        "det-round-trip",
        DETECTION_GT,
        DETECTION_DT,
        &["--format", "json"],
    );
    let text = stdout(&output);

    assert!(text.contains("\"map\": 0.6999999999999998,"), "{text}");
}

#[test]
fn detection_iou_thresholds_option() {
    let output = run_detection(
        "det-iou-thresholds",
        DETECTION_GT,
        DETECTION_DT,
        &["--format", "json", "--iou-thresholds", "0.5,0.85"],
    );
    parse_json(&output);

    // IoU 0.818 passes 0.5 and fails 0.85, and 0.75 is not among the thresholds. pycocotools
    // 2.0.11 with params.iouThrs = np.array([0.5, 0.85]) gives the same values.
    assert_eq!(json_f64(&output, "map"), 0.49999999999999994);
    assert_eq!(json_f64(&output, "map_50"), 0.9999999999999999);
    assert_eq!(json_f64(&output, "map_75"), -1.0);
}

#[test]
fn detection_micro_average_pools_categories() {
    let results = r#"[{"image_id": 1, "category_id": 2, "bbox": [10, 10, 20, 20], "score": 0.9}]"#;
    let macro_output = run_detection("det-macro", DETECTION_GT, results, &["--format", "json"]);
    let micro_output = run_detection(
        "det-micro",
        DETECTION_GT,
        results,
        &["--format", "json", "--average", "micro", "--per-class"],
    );
    parse_json(&macro_output);
    let micro_map = parse_json(&micro_output);

    // A "dog" detection on the "cat" box: wrong per category, right once categories are pooled.
    // pycocotools 2.0.11 gives these values with params.useCats = 1 and 0.
    assert_eq!(json_f64(&macro_output, "map"), 0.0);
    assert_eq!(json_f64(&micro_output, "map"), 0.9999999999999998);
    // Per-class values stay per category under micro averaging, as in TorchMetrics.
    assert_eq!(micro_map["classes"], serde_json::json!([1, 2]));
    assert_eq!(json_f64s(&micro_output, "map_per_class"), [0.0, -1.0]);
}

#[test]
fn detection_table_has_pycocotools_lines() {
    let output = run_detection("det-table", DETECTION_GT, DETECTION_DT, &[]);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(lines[0].starts_with("bbox evaluation of "), "{text}");
    assert_eq!(lines[1], "");
    assert_eq!(lines.len(), 14, "{text}");
    // pycocotools' format: ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'
    let expected = [
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.700",
        " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000",
        " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 1.000",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.700",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.700",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.700",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.700",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.700",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000",
    ];
    for (line, expected) in lines[2..].iter().zip(expected) {
        assert_eq!(*line, expected);
    }
}

#[test]
fn detection_table_per_class_names_categories() {
    let output = run_detection(
        "det-table-class",
        DETECTION_GT,
        DETECTION_DT,
        &["--per-class"],
    );
    let text = stdout(&output);
    let header = text
        .lines()
        .find(|line| line.contains("category_id"))
        .expect("a per-class table header");
    let row = text
        .lines()
        .find(|line| line.contains("| cat "))
        .expect("a row for category 1");

    assert!(
        header.contains("AP") && header.contains("AR@100"),
        "{header}"
    );
    assert!(row.contains("| 0.700 |"), "{row}");
    assert!(!text.contains("dog"), "{text}");
}

#[test]
fn detection_segm_on_polygons() {
    let truth = r#"{
      "images": [{"id": 1, "height": 40, "width": 40}],
      "categories": [{"id": 1, "name": "cat"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "area": 100, "iscrowd": 0,
                       "segmentation": [[10, 10, 20, 10, 20, 20, 10, 20]]}]
    }"#;
    // The same square shifted right by 2 pixels, as a compressed RLE from pycocotools 2.0.11:
    // mask.merge(mask.frPyObjects([[12, 10, 22, 10, 22, 20, 12, 20]], 40, 40)).
    let results = r#"[{"image_id": 1, "category_id": 1, "score": 0.9,
                       "segmentation": {"size": [40, 40], "counts": "Z?:n000000000000000000Vf0"}}]"#;
    let output = run_detection(
        "det-segm",
        truth,
        results,
        &["--iou-type", "segm", "--format", "json"],
    );
    parse_json(&output);

    // IoU 80 / 120 passes 4 of the 10 thresholds; pycocotools 2.0.11 gives the same bits.
    assert_eq!(json_f64(&output, "map"), 0.39999999999999997);
    assert_eq!(json_f64(&output, "map_50"), 0.9999999999999999);
}

#[test]
fn detection_error_malformed_results_json() {
    let results = r#"[{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.5},
                      {"image_id": 1, "category_id": 1, "bbox": [1, 2"#;
    let output = run_detection("det-err-json", DETECTION_GT, results, &[]);

    assert_input_error(
        &output,
        &["dt.json: ", "entry 1, field `bbox`", "not valid JSON"],
    );
}

#[test]
fn detection_error_malformed_truth_json() {
    let truth = DETECTION_GT.replace("\"area\": 400", "\"area\": 400,,");
    let output = run_detection("det-err-gt-json", &truth, DETECTION_DT, &[]);

    assert_input_error(
        &output,
        &["gt.json: ", "`annotations` entry 0", "not valid JSON"],
    );
}

#[test]
fn detection_error_nan_score() {
    let results = results_with_second(
        r#"{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": NaN}"#,
    );
    let output = run_detection("det-err-nan", DETECTION_GT, &results, &[]);

    assert_input_error(
        &output,
        &[
            "dt.json: ",
            "entry 1, field `score`",
            "NaN",
            "finite number",
        ],
    );
}

#[test]
fn detection_error_unknown_image() {
    let results = results_with_second(
        r#"{"image_id": 7, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.4}"#,
    );
    let output = run_detection("det-err-image", DETECTION_GT, &results, &[]);

    assert_input_error(&output, &["dt.json: ", "entry 1", "image_id 7", "--gt"]);
}

#[test]
fn detection_error_unknown_category() {
    let results = results_with_second(
        r#"{"image_id": 1, "category_id": 9, "bbox": [10, 10, 20, 20], "score": 0.4}"#,
    );
    let output = run_detection("det-err-category", DETECTION_GT, &results, &[]);

    assert_input_error(&output, &["dt.json: ", "entry 1", "category_id 9"]);
}

#[test]
fn detection_error_truth_unknown_category() {
    let truth = DETECTION_GT.replace("\"category_id\": 1", "\"category_id\": 5");
    let output = run_detection("det-err-gt-category", &truth, DETECTION_DT, &[]);

    assert_input_error(
        &output,
        &[
            "gt.json: ",
            "`annotations` entry 0",
            "category_id 5",
            "add the entry",
        ],
    );
}

#[test]
fn detection_error_negative_width() {
    let results = results_with_second(
        r#"{"image_id": 1, "category_id": 1, "bbox": [10, 10, -20, 20], "score": 0.4}"#,
    );
    let output = run_detection("det-err-width", DETECTION_GT, &results, &[]);

    assert_input_error(
        &output,
        &["dt.json: ", "entry 1", "negative width or height"],
    );
}

#[test]
fn detection_error_truth_negative_height() {
    let truth = DETECTION_GT.replace("[10, 10, 20, 20]", "[10, 10, 20, -1]");
    let output = run_detection("det-err-gt-height", &truth, DETECTION_DT, &[]);

    assert_input_error(
        &output,
        &[
            "gt.json: ",
            "`annotations` entry 0",
            "negative width or height",
        ],
    );
}

#[test]
fn detection_error_missing_score() {
    let results =
        results_with_second(r#"{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]}"#);
    let output = run_detection("det-err-score", DETECTION_GT, &results, &[]);

    assert_input_error(
        &output,
        &[
            "dt.json: ",
            "entry 1",
            "missing field `score`",
            "add the field",
        ],
    );
}

#[test]
fn detection_error_truth_missing_area() {
    let truth = DETECTION_GT.replace("\"area\": 400, ", "");
    let output = run_detection("det-err-area", &truth, DETECTION_DT, &[]);

    assert_input_error(
        &output,
        &["gt.json: ", "`annotations` entry 0", "missing field `area`"],
    );
}

#[test]
fn detection_error_segm_without_segmentation() {
    let output = run_detection(
        "det-err-segm",
        DETECTION_GT,
        DETECTION_DT,
        &["--iou-type", "segm"],
    );

    assert_input_error(
        &output,
        &[
            "gt.json: ",
            "`annotations` entry 0",
            "missing field `segmentation`",
        ],
    );
}

#[test]
fn detection_error_results_not_a_list() {
    let output = run_detection("det-err-list", DETECTION_GT, "{}", &[]);

    assert_input_error(&output, &["dt.json: ", "list of detections"]);
}

#[test]
fn detection_error_missing_file() {
    let dir = TempDir::new("det-err-file");
    let gt = dir.write("gt.json", DETECTION_GT);
    let missing = dir.path.join("absent.json");
    let output = run([
        "detection".to_owned(),
        "--gt".to_owned(),
        path_arg(&gt),
        "--dt".to_owned(),
        path_arg(&missing),
    ]);

    assert_input_error(&output, &["absent.json: ", "cannot open"]);
}

#[test]
fn detection_error_bad_option_values() {
    let cases: [(&[&str], &[&str]); 8] = [
        (&["--rec-thresholds", "0,1.5"], &["--rec-thresholds", "1.5"]),
        (&["--rec-thresholds", "0,x"], &["--rec-thresholds", "'x'"]),
        (&["--max-dets", "1,10"], &["--max-dets", "three"]),
        (&["--max-dets", "1,0,10"], &["--max-dets", "positive"]),
        (&["--max-dets", "1,10,10"], &["--max-dets", "repeats"]),
        (
            &["--iou-thresholds", "0.5,1.5"],
            &["--iou-thresholds", "1.5"],
        ),
        (&["--iou-thresholds", "0.5,x"], &["--iou-thresholds", "'x'"]),
        (&["--average", "weighted"], &["--average", "macro, micro"]),
    ];
    for (extra, fragments) in cases {
        let output = run_detection("det-err-options", DETECTION_GT, DETECTION_DT, extra);

        assert_input_error(&output, fragments);
    }
}

#[test]
fn detection_help_lists_options() {
    let output = run(["detection", "--help"]);
    let text = stdout(&output);

    assert_eq!(output.status.code(), Some(0));
    for option in [
        "--gt",
        "--dt",
        "--iou-type",
        "--average",
        "--per-class",
        "--iou-thresholds",
        "--rec-thresholds",
        "--max-dets",
        "--iou-metrics",
        "--iou-threshold",
        "--no-respect-labels",
        "--format",
    ] {
        assert!(text.contains(option), "help lacks {option}");
    }
}

#[test]
fn detection_close_scores_keep_their_order() {
    // The false positive at (60, 60) has the higher score by one unit in the last place, so
    // pycocotools ranks it first. pycocotools 2.0.11 gives map 0.5.
    let results = r#"[
      {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9999999999999999},
      {"image_id": 1, "category_id": 1, "bbox": [60, 60, 20, 20], "score": 1.0}
    ]"#;
    let output = run_detection(
        "det-close-scores",
        DETECTION_GT,
        results,
        &["--format", "json"],
    );

    assert_eq!(json_f64(&output, "map"), 0.5);
}

#[test]
fn detection_error_missing_image_id() {
    let results =
        results_with_second(r#"{"category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.4}"#);
    let output = run_detection("det-err-image-id", DETECTION_GT, &results, &[]);

    assert_input_error(
        &output,
        &["dt.json: ", "entry 1", "missing field `image_id`"],
    );
}

#[test]
fn detection_error_missing_bbox() {
    let results = results_with_second(r#"{"image_id": 1, "category_id": 1, "score": 0.4}"#);
    let output = run_detection("det-err-bbox", DETECTION_GT, &results, &[]);

    assert_input_error(&output, &["dt.json: ", "entry 1", "bbox"]);
}

#[test]
fn detection_error_nan_box_coordinate() {
    let results = results_with_second(
        r#"{"image_id": 1, "category_id": 1, "bbox": [10, NaN, 20, 20], "score": 0.4}"#,
    );
    let output = run_detection("det-err-nan-box", DETECTION_GT, &results, &[]);

    assert_input_error(&output, &["dt.json: ", "entry 1", "bbox"]);
}

#[test]
fn detection_error_truth_unknown_image() {
    let truth = DETECTION_GT.replace("\"image_id\": 1", "\"image_id\": 4");
    let output = run_detection("det-err-gt-image", &truth, DETECTION_DT, &[]);

    assert_input_error(
        &output,
        &["gt.json: ", "`annotations` entry 0", "image_id 4"],
    );
}

#[test]
fn detection_iou_metrics_json_values() {
    let output = run_detection(
        "det-iou-json",
        DETECTION_GT,
        DETECTION_DT,
        &["--iou-metrics", "--format", "json"],
    );
    let map = parse_json(&output);

    assert_eq!(sorted_keys(&map), sorted(&["iou", "giou", "diou", "ciou"]));
    // Boxes [10, 10, 30, 30] and [12, 10, 32, 30]: intersection 360, union 440, enclosing box
    // 22 x 20 = 440 (so GIoU = IoU), centers 2 apart, equal aspect ratios (so CIoU = DIoU).
    let iou = 360.0 / 440.0;
    assert_eq!(json_f64(&output, "iou"), iou);
    assert!((json_f64(&output, "giou") - iou).abs() < 1e-15);
    let diou = iou - 4.0 / (22.0 * 22.0 + 20.0 * 20.0 + 1e-7);
    assert!((json_f64(&output, "diou") - diou).abs() < 1e-15);
    assert!((json_f64(&output, "ciou") - diou).abs() < 1e-15);
}

#[test]
fn detection_iou_metrics_per_class_keys() {
    let results = r#"[{"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": 0.9},
                      {"image_id": 1, "category_id": 2, "bbox": [50, 50, 10, 10], "score": 0.3}]"#;
    let output = run_detection(
        "det-iou-class",
        DETECTION_GT,
        results,
        &["--iou-metrics", "--per-class", "--format", "json"],
    );
    let map = parse_json(&output);

    assert_eq!(map.len(), 12);
    assert_eq!(json_f64(&output, "iou/cl_1"), 360.0 / 440.0);
    // Category 2 has a detection but no ground truth, so no pair counts for it.
    assert_eq!(json_f64(&output, "iou/cl_2"), 0.0);
    assert_eq!(json_f64(&output, "iou"), 360.0 / 440.0);
}

#[test]
fn detection_iou_metrics_respect_labels_and_threshold() {
    let results = r#"[{"image_id": 1, "category_id": 2, "bbox": [12, 10, 20, 20], "score": 0.9}]"#;
    let same_category = run_detection(
        "det-iou-labels",
        DETECTION_GT,
        results,
        &["--iou-metrics", "--format", "json"],
    );
    let any_category = run_detection(
        "det-iou-no-labels",
        DETECTION_GT,
        results,
        &["--iou-metrics", "--no-respect-labels", "--format", "json"],
    );
    let above_threshold = run_detection(
        "det-iou-threshold",
        DETECTION_GT,
        DETECTION_DT,
        &[
            "--iou-metrics",
            "--iou-threshold",
            "0.9",
            "--format",
            "json",
        ],
    );

    assert_eq!(json_f64(&same_category, "iou"), 0.0);
    assert_eq!(json_f64(&any_category, "iou"), 360.0 / 440.0);
    // The only pair is below 0.9, so no pair counts and the mean of none is 0.
    assert_eq!(json_f64(&above_threshold, "iou"), 0.0);
}

#[test]
fn detection_iou_metrics_table() {
    let output = run_detection(
        "det-iou-table",
        DETECTION_GT,
        DETECTION_DT,
        &["--iou-metrics", "--per-class"],
    );
    let text = stdout(&output);

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(text.starts_with("box IoU family of "), "{text}");
    assert!(text.contains("| iou    | 0.8182 |"), "{text}");
    assert!(text.contains("| cat  |"), "{text}");
}

#[test]
fn detection_iou_metrics_option_errors() {
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--iou-metrics", "--rec-thresholds", "0,1"],
            &["--rec-thresholds", "does not apply"],
        ),
        (
            &["--iou-threshold", "0.5"],
            &["--iou-threshold", "--iou-metrics"],
        ),
        (
            &["--no-respect-labels"],
            &["--no-respect-labels", "--iou-metrics"],
        ),
        (
            &["--iou-metrics", "--iou-type", "segm"],
            &["--iou-type", "bbox"],
        ),
        (
            &["--iou-metrics", "--iou-thresholds", "0.5"],
            &["--iou-thresholds", "--iou-threshold T"],
        ),
        (
            &["--iou-metrics", "--average", "micro"],
            &["--average", "does not apply"],
        ),
        (
            &["--iou-metrics", "--iou-threshold", "NaN"],
            &["--iou-threshold", "NaN"],
        ),
    ];
    for (extra, fragments) in cases {
        let output = run_detection("det-iou-options", DETECTION_GT, DETECTION_DT, extra);

        assert_input_error(&output, fragments);
    }
}

#[test]
fn detection_iou_metrics_error_truth_without_box() {
    let truth = r#"{
      "images": [{"id": 1, "height": 40, "width": 40}],
      "categories": [{"id": 1, "name": "cat"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "area": 100, "iscrowd": 0,
                       "segmentation": [[10, 10, 20, 10, 20, 20, 10, 20]]}]
    }"#;
    let output = run_detection("det-iou-no-box", truth, DETECTION_DT, &["--iou-metrics"]);

    assert_input_error(
        &output,
        &["gt.json: ", "`annotations` entry 0", "missing field `bbox`"],
    );
}

#[test]
fn detection_rec_thresholds_option() {
    // Two objects and one detection that finds one: recall reaches 0.5, so at IoU 0.50 the
    // precision is 1 / (1 + 2^-52) at recall thresholds up to 0.5 and 0 above, about 51 / 101
    // of the default thresholds and 6 / 11 of eleven. pycocotools 2.0.11 gives these bits.
    let truth = DETECTION_GT.replace(
        "\"iscrowd\": 0}]",
        "\"iscrowd\": 0},\n {\"id\": 2, \"image_id\": 1, \"category_id\": 1, \
         \"bbox\": [60, 60, 20, 20], \"area\": 400, \"iscrowd\": 0}]",
    );
    let default = run_detection(
        "det-rec-default",
        &truth,
        DETECTION_DT,
        &["--format", "json"],
    );
    let eleven = run_detection(
        "det-rec-eleven",
        &truth,
        DETECTION_DT,
        &[
            "--rec-thresholds",
            "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1",
            "--format",
            "json",
        ],
    );

    assert_eq!(json_f64(&default, "map_50"), 0.5049504950495048);
    assert_eq!(json_f64(&eleven, "map_50"), 0.5454545454545453);
}

/// Without the `mpi` feature, `--shard` fails before reading any file and gives the command
/// that builds with MPI.
#[cfg(not(feature = "mpi"))]
#[test]
fn shard_without_mpi_explains_build() {
    let cases: [&[&str]; 2] = [
        &[
            "detection",
            "--gt",
            "missing.json",
            "--dt",
            "missing.json",
            "--shard",
        ],
        &[
            "clustering",
            "missing.csv",
            "--target",
            "t",
            "--preds",
            "p",
            "--shard",
        ],
    ];
    for args in cases {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--shard: "), "{args:?}: {stderr}");
        assert!(stderr.contains("--features mpi"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("missing"),
            "{args:?} read a file: {stderr}"
        );
    }
}

/// TorchMetrics' documented regression example, with one negative target.
const REGRESSION_CSV: &str = "\
id,preds,target,name
1,2.5,3.0,a
2,0.0,-0.5,b
3,2.0,2.0,c
4,8.0,7.0,d
";

/// Values with a target below -1, outside the domain of log1p.
const NEGATIVE_TARGET_CSV: &str = "\
preds,target
1.0,0.5
2.0,-2.0
3.0,2.5
";

const REGRESSION_KEYS: [&str; 22] = [
    "pearson_corrcoef",
    "spearman_corrcoef",
    "kendall_rank_corrcoef",
    "concordance_corrcoef",
    "r2_score",
    "explained_variance",
    "relative_squared_error",
    "mean_squared_error",
    "normalized_root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "symmetric_mean_absolute_percentage_error",
    "weighted_mean_absolute_percentage_error",
    "mean_squared_log_error",
    "log_cosh_error",
    "minkowski_distance",
    "tweedie_deviance_score",
    "cosine_similarity",
    "kl_divergence",
    "jensen_shannon_divergence",
    "critical_success_index",
    "continuous_ranked_probability_score",
];

fn regression_args(file: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["regression".to_owned(), path_arg(file)];
    args.extend(["--preds", "preds", "--target", "target"].map(String::from));
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args
}

#[test]
fn regression_json_has_every_metric_key() {
    let dir = TempDir::new("regression-keys");
    let file = dir.write("values.csv", REGRESSION_CSV);

    let map = parse_json(&run(regression_args(&file, &["--format", "json"])));

    assert_eq!(sorted_keys(&map), sorted(&REGRESSION_KEYS));
}

#[test]
fn regression_json_values_match_references() {
    let dir = TempDir::new("regression-values");
    let file = dir.write("values.csv", REGRESSION_CSV);

    let map = parse_json(&run(regression_args(&file, &["--format", "json"])));
    let value = |name: &str| map[name].as_f64().expect("a number");

    // Squared errors 0.25, 0.25, 0 and 1, absolute errors 0.5, 0.5, 0 and 1.
    assert_eq!(value("mean_squared_error"), 0.375);
    assert_eq!(value("mean_absolute_error"), 0.5);
    assert_eq!(value("minkowski_distance"), 1.5_f64.sqrt());
    // scikit-learn's r2_score and scipy's pearsonr on the same values.
    approx::assert_relative_eq!(
        value("r2_score"),
        0.948_608_137_044_967_9,
        max_relative = 1e-15
    );
    approx::assert_relative_eq!(
        value("pearson_corrcoef"),
        0.984_869_618_448_27,
        max_relative = 1e-13
    );
    // Both orderings agree on every pair.
    approx::assert_relative_eq!(value("spearman_corrcoef"), 1.0, max_relative = 1e-15);
    assert_eq!(value("kendall_rank_corrcoef"), 1.0);
    // -0.5 lies inside the domain of log1p.
    assert!(value("mean_squared_log_error") > 0.0);
}

#[test]
fn regression_skips_metrics_outside_domain() {
    let dir = TempDir::new("regression-skips");
    let file = dir.write("values.csv", NEGATIVE_TARGET_CSV);

    let output = run(regression_args(&file, &["--tweedie-power", "2"]));
    let table = stdout(&output);
    let row = |name: &str| {
        table
            .lines()
            .find(|line| line.starts_with(&format!("| {name} ")))
            .unwrap_or_else(|| panic!("no row {name} in {table}"))
            .to_owned()
    };

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(row("mean_squared_log_error").contains("skipped"));
    assert!(row("tweedie_deviance_score").contains("target has -2.0 at line 3"));
    assert!(row("kl_divergence").contains("probability distributions"));
    assert!(row("critical_success_index").contains("--csi-threshold"));
    assert!(!row("r2_score").contains("skipped"));
}

#[test]
fn regression_json_reports_skip_reasons_on_stderr() {
    let dir = TempDir::new("regression-stderr");
    let file = dir.write("values.csv", NEGATIVE_TARGET_CSV);

    let output = run(regression_args(&file, &["--format", "json"]));
    let map = parse_json(&output);

    assert!(map["mean_squared_log_error"].is_null());
    assert!(stderr(&output).contains("mean_squared_log_error is null, skipped: log1p"));
}

#[test]
fn regression_csi_with_threshold() {
    let dir = TempDir::new("regression-csi");
    let file = dir.write("values.csv", REGRESSION_CSV);

    let args = regression_args(&file, &["--format", "json", "--csi-threshold", "2.5"]);
    let map = parse_json(&run(args));

    // Events preds >= 2.5: rows 1 and 4; target >= 2.5: rows 1 and 4.
    assert_eq!(map["critical_success_index"].as_f64(), Some(1.0));
}

#[test]
fn regression_npy_matches_csv() {
    let dir = TempDir::new("regression-npy");
    let preds = dir.npy("preds.npy", &array![2.5_f32, 0.0, 2.0, 8.0]);
    let target = dir.npy("target.npy", &array![3_i64, 0, 2, 7]);
    let csv_target = dir.write("int.csv", "preds,target\n2.5,3\n0.0,0\n2.0,2\n8.0,7\n");

    let from_npy = parse_json(&run([
        "regression",
        "--preds-npy",
        &path_arg(&preds),
        "--target-npy",
        &path_arg(&target),
        "--format",
        "json",
    ]));
    let from_csv = parse_json(&run(regression_args(&csv_target, &["--format", "json"])));

    assert_eq!(from_npy, from_csv);
}

#[test]
fn regression_error_missing_column() {
    let dir = TempDir::new("regression-missing-column");
    let file = dir.write("values.csv", REGRESSION_CSV);

    let mut args = vec!["regression".to_owned(), path_arg(&file)];
    args.extend(["--preds", "yhat", "--target", "target"].map(String::from));
    let output = run(args);

    assert_input_error(
        &output,
        &["values.csv", "column \"yhat\" not found", "\"preds\""],
    );
}

#[test]
fn regression_error_non_numeric_cell() {
    let dir = TempDir::new("regression-non-numeric");
    let file = dir.write("values.csv", "preds,target\n1.0,2.0\n3.0,n/a\n");

    let output = run(regression_args(&file, &[]));

    assert_input_error(
        &output,
        &[
            "values.csv",
            "line 3",
            "column \"target\"",
            "\"n/a\" is not a number",
        ],
    );
}

#[test]
fn regression_error_non_numeric_column() {
    let dir = TempDir::new("regression-text-column");
    let file = dir.write("values.csv", REGRESSION_CSV);

    let mut args = vec!["regression".to_owned(), path_arg(&file)];
    args.extend(["--preds", "name", "--target", "target"].map(String::from));

    assert_input_error(
        &run(args),
        &["line 2", "column \"name\"", "\"a\" is not a number"],
    );
}

#[test]
fn regression_error_missing_cell() {
    let dir = TempDir::new("regression-missing-cell");
    let file = dir.write("values.csv", "preds,target\n1.0,2.0\n,3.0\n");

    assert_input_error(
        &run(regression_args(&file, &[])),
        &["line 3", "column \"preds\"", "missing value"],
    );
}

#[test]
fn regression_error_length_mismatch_npy() {
    let dir = TempDir::new("regression-length");
    let preds = dir.npy("preds.npy", &array![1.0, 2.0, 3.0]);
    let target = dir.npy("target.npy", &array![1.0, 2.0]);

    let output = run([
        "regression",
        "--preds-npy",
        &path_arg(&preds),
        "--target-npy",
        &path_arg(&target),
    ]);

    assert_input_error(
        &output,
        &[
            "target.npy",
            "length mismatch",
            "target has 2 values",
            "has 3",
        ],
    );
}

#[test]
fn regression_error_nan_in_npy() {
    let dir = TempDir::new("regression-nan");
    let preds = dir.npy("preds.npy", &array![1.0, f64::NAN]);
    let target = dir.npy("target.npy", &array![1.0, 2.0]);

    let output = run([
        "regression",
        "--preds-npy",
        &path_arg(&preds),
        "--target-npy",
        &path_arg(&target),
    ]);

    assert_input_error(&output, &["preds.npy", "index 1", "not finite"]);
}

#[test]
fn regression_error_invalid_tweedie_power() {
    let dir = TempDir::new("regression-power");
    let file = dir.write("values.csv", REGRESSION_CSV);

    let output = run(regression_args(&file, &["--tweedie-power", "0.5"]));

    assert_input_error(&output, &["--tweedie-power", "0.5"]);
}

#[test]
fn regression_example_matches_sklearn() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/diabetes_linear.csv");
    let mut args = vec!["regression".to_owned(), path_arg(&example)];
    args.extend(["--preds", "prediction", "--target", "progression"].map(String::from));
    args.extend(["--format", "json"].map(String::from));

    let map = parse_json(&run(args));

    // sklearn.metrics.r2_score of the in-sample LinearRegression fit, scikit-learn 1.x.
    let r2 = map["r2_score"].as_f64().expect("a number");
    approx::assert_relative_eq!(r2, 0.517_748_422_220_349_9, max_relative = 1e-12);
}

#[test]
fn regression_undefined_and_nan_values() {
    let dir = TempDir::new("regression-undefined");
    let file = dir.write("values.csv", "preds,target\n1.0,2.0\n1.0,3.0\n1.0,5.0\n");

    let output = run(regression_args(
        &file,
        &["--format", "json", "--adjusted", "5"],
    ));
    let map = parse_json(&output);
    let warnings = stderr(&output);

    // Constant preds: Pearson's r is 0 / 0, and 5 regressors leave no degrees of freedom.
    assert!(map["pearson_corrcoef"].is_null());
    assert!(warnings.contains("pearson_corrcoef is NaN"), "{warnings}");
    assert!(map["r2_score"].is_null());
    assert!(
        warnings.contains("r2_score is null, undefined"),
        "{warnings}"
    );
    assert_eq!(map["mean_absolute_error"].as_f64(), Some(7.0 / 3.0));
}

/// 200 samples of a noisy linear relation, from a fixed formula, so that every regression
/// metric has a value on every resample.
fn linear_csv(samples: usize) -> String {
    let mut csv = String::from("preds,target\n");
    for i in 0..samples {
        let x = i as f64 / samples as f64;
        // A deterministic, irregular error in [-0.25, 0.25].
        let error = ((i * 7919) % 101) as f64 / 200.0 - 0.25;
        csv.push_str(&format!("{},{}\n", 1.0 + 3.0 * x + error, 1.0 + 3.0 * x));
    }
    csv
}

fn bootstrap_entry<'a>(map: &'a serde_json::Map<String, Value>, name: &str) -> &'a Value {
    let entry = &map[name];
    assert!(entry.is_object(), "{name}: {entry}");
    entry
}

#[test]
fn regression_bootstrap_same_seed_same_output() {
    let dir = TempDir::new("bootstrap-seed");
    let file = dir.write("values.csv", &linear_csv(200));
    let args = |seed: &str| {
        regression_args(
            &file,
            &["--bootstrap", "50", "--seed", seed, "--format", "json"],
        )
    };

    let first = stdout(&run(args("3")));
    let second = stdout(&run(args("3")));
    let other_seed = stdout(&run(args("4")));

    assert_eq!(first, second);
    assert_ne!(first, other_seed);
}

#[test]
fn regression_bootstrap_threads_do_not_change_output() {
    let dir = TempDir::new("bootstrap-threads");
    let file = dir.write("values.csv", &linear_csv(200));
    let args = regression_args(&file, &["--bootstrap", "40", "--format", "json"]);
    let with_threads = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_ferrometrics"))
            .args(&args)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("run the ferrometrics binary")
    };

    let one = with_threads("1");
    let three = with_threads("3");

    assert_eq!(one.status.code(), Some(0), "stderr: {}", stderr(&one));
    assert_eq!(stdout(&one), stdout(&three));
}

#[test]
fn regression_bootstrap_interval_brackets_value() {
    let dir = TempDir::new("bootstrap-brackets");
    let file = dir.write("values.csv", &linear_csv(200));

    let args = regression_args(&file, &["--bootstrap", "200", "--format", "json"]);
    let map = parse_json(&run(args));

    for name in &REGRESSION_KEYS[..17] {
        let entry = bootstrap_entry(&map, name);
        let value = entry["value"].as_f64().expect("a value");
        let quantiles = entry["quantiles"].as_array().expect("a list of quantiles");
        let low = quantiles[0].as_f64().expect("a number");
        let high = quantiles[1].as_f64().expect("a number");
        assert_eq!(quantiles.len(), 2, "{name}");
        assert!(low <= value, "{name}: {low} > {value}");
        assert!(value <= high, "{name}: {value} > {high}");
        assert!(entry["std"].as_f64().expect("a std") > 0.0, "{name}");
        assert_eq!(entry["replicates"].as_u64(), Some(200), "{name}");
    }
}

#[test]
fn regression_bootstrap_skipped_stay_null() {
    let dir = TempDir::new("bootstrap-skipped");
    let file = dir.write("values.csv", NEGATIVE_TARGET_CSV);

    let args = regression_args(&file, &["--bootstrap", "20", "--format", "json"]);
    let output = run(args);
    let map = parse_json(&output);

    assert!(map["mean_squared_log_error"].is_null());
    assert!(map["kl_divergence"].is_null());
    assert!(map["mean_absolute_error"].is_object());
    assert!(stderr(&output).contains("mean_squared_log_error is null, skipped: log1p"));
}

#[test]
fn regression_bootstrap_custom_quantiles_ordered() {
    let dir = TempDir::new("bootstrap-quantiles");
    let file = dir.write("values.csv", &linear_csv(200));

    let args = regression_args(
        &file,
        &[
            "--bootstrap",
            "100",
            "--quantiles",
            "0.9,0,0.5,1",
            "--sampling-strategy",
            "multinomial",
            "--format",
            "json",
        ],
    );
    let map = parse_json(&run(args));
    let quantiles: Vec<f64> = bootstrap_entry(&map, "mean_absolute_error")["quantiles"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|q| q.as_f64().expect("a number"))
        .collect();

    assert_eq!(quantiles.len(), 4);
    // Levels 0 and 1 are the smallest and largest replicate values.
    assert!(quantiles[1] <= quantiles[2], "{quantiles:?}");
    assert!(quantiles[2] <= quantiles[0], "{quantiles:?}");
    assert!(quantiles[0] <= quantiles[3], "{quantiles:?}");
}

#[test]
fn regression_bootstrap_table_columns() {
    let dir = TempDir::new("bootstrap-table");
    let file = dir.write("values.csv", &linear_csv(50));

    let output = run(regression_args(
        &file,
        &["--bootstrap", "10", "--seed", "9"],
    ));
    let table = stdout(&output);
    let header = table.lines().nth(2).expect("a header row");
    let columns: Vec<&str> = header.split('|').map(str::trim).collect();

    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .contains("bootstrap: 10 replicates, poisson sampling, seed 9"),
        "{table}"
    );
    assert_eq!(
        columns[1..8],
        [
            "metric",
            "value",
            "mean",
            "std",
            "q0.025",
            "q0.975",
            "direction"
        ]
    );
}

#[test]
fn regression_bootstrap_tiny_input_has_no_interval() {
    let dir = TempDir::new("bootstrap-tiny");
    let file = dir.write("values.csv", REGRESSION_CSV);

    // Under Poisson sampling, some of 100 replicates of 4 samples draw exactly one sample, on
    // which a correlation has no value.
    let args = regression_args(&file, &["--bootstrap", "100", "--format", "json"]);
    let output = run(args);
    let map = parse_json(&output);
    let pearson = bootstrap_entry(&map, "pearson_corrcoef");

    assert_eq!(pearson["value"].as_f64(), Some(0.984_869_618_448_27));
    assert!(pearson["quantiles"].is_null());
    assert!(stderr(&output).contains("pearson_corrcoef has null mean, std, quantiles"));
    assert!(bootstrap_entry(&map, "mean_absolute_error")["mean"].is_number());
}

#[test]
fn regression_bootstrap_option_errors() {
    let dir = TempDir::new("bootstrap-errors");
    let file = dir.write("values.csv", REGRESSION_CSV);
    let cases: [(&[&str], &[&str]); 9] = [
        (&["--bootstrap", "0"], &["--bootstrap", "'0'", "positive"]),
        (
            &["--bootstrap", "1048577"],
            &["--bootstrap", "'1048577'", "more than the 1048576"],
        ),
        (&["--bootstrap", "-3"], &["--bootstrap", "'-3'", "positive"]),
        (&["--quantiles", "0.1"], &["--quantiles", "--bootstrap N"]),
        (&["--seed", "1"], &["--seed", "--bootstrap N"]),
        (
            &["--sampling-strategy", "multinomial"],
            &["--sampling-strategy", "--bootstrap N"],
        ),
        (
            &["--bootstrap", "5", "--quantiles", "0.5,1.5"],
            &["--quantiles", "1.5", "outside [0, 1]"],
        ),
        (
            &["--bootstrap", "5", "--quantiles", "-0.1"],
            &["--quantiles", "-0.1", "outside [0, 1]"],
        ),
        (
            &["--bootstrap", "5", "--quantiles", "nan"],
            &["--quantiles", "NaN", "not a finite number"],
        ),
    ];

    for (extra, fragments) in cases {
        assert_input_error(&run(regression_args(&file, extra)), fragments);
    }
}

/// Five rows of three class scores whose argmax is [0, 1, 2, 2, 0] against targets
/// [0, 1, 1, 2, 2]: the confusion matrix is [[1, 0, 0], [0, 1, 1], [1, 0, 1]].
const MULTICLASS_CSV: &str = "\
p0,p1,p2,y
0.7,0.2,0.1,0
0.1,0.8,0.1,1
0.3,0.3,0.4,1
0.2,0.2,0.6,2
0.5,0.4,0.1,2
";

fn run_classification(args: &[&str]) -> Output {
    let mut all = vec!["classification"];
    all.extend_from_slice(args);
    run(all)
}

fn json_numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(|entry| entry.as_f64().expect("a number"))
        .collect()
}

fn multiclass_json(dir: &TempDir, extra: &[&str]) -> serde_json::Map<String, Value> {
    let file = path_arg(&dir.write("mc.csv", MULTICLASS_CSV));
    let mut args = vec![
        file.as_str(),
        "--task",
        "multiclass",
        "--num-classes",
        "3",
        "--preds",
        "p0,p1,p2",
        "--target",
        "y",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    parse_json(&run_classification(&args))
}

#[test]
fn classification_json_confusion_matrix() {
    let dir = TempDir::new("cls-confusion");
    let json = multiclass_json(&dir, &[]);

    let expected = serde_json::json!([[1, 0, 0], [0, 1, 1], [1, 0, 1]]);
    assert_eq!(json["confusion_matrix"], expected);
}

#[test]
fn classification_json_per_class_lists() {
    let dir = TempDir::new("cls-per-class");
    let json = multiclass_json(&dir, &[]);
    let per_class = json["per_class"]
        .as_object()
        .expect("per_class is an object");

    assert_eq!(json_numbers(&per_class["precision"]), [0.5, 1.0, 0.5]);
    assert_eq!(json_numbers(&per_class["recall"]), [1.0, 0.5, 0.5]);
    assert_eq!(json_numbers(&per_class["support"]), [1.0, 2.0, 2.0]);
    assert_eq!(
        json_numbers(&per_class["specificity"]),
        [0.75, 1.0, 2.0 / 3.0]
    );
    assert_eq!(
        json_numbers(&per_class["jaccard_index"]),
        [0.5, 0.5, 1.0 / 3.0]
    );
    // Class 0 has its one positive ranked first, so its AUROC and AP are 1.
    assert_eq!(json_numbers(&per_class["auroc"])[0], 1.0);
    assert_eq!(json_numbers(&per_class["average_precision"])[0], 1.0);
    assert_eq!(per_class["classes"], serde_json::json!(["0", "1", "2"]));
}

#[test]
fn classification_json_macro_is_mean_of_classes() {
    let dir = TempDir::new("cls-macro");
    let json = multiclass_json(&dir, &["--average", "macro"]);
    let per_class = json["per_class"].as_object().unwrap();

    for name in ["precision", "recall", "f1_score", "specificity", "auroc"] {
        let values = json_numbers(&per_class[name]);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let averaged = json[name].as_f64().unwrap();
        assert!(
            (averaged - mean).abs() < 1e-12,
            "{name}: {averaged} vs {mean}"
        );
    }
}

#[test]
fn classification_table_has_three_sections() {
    let dir = TempDir::new("cls-table");
    let file = path_arg(&dir.write("mc.csv", MULTICLASS_CSV));
    let output = run_classification(&[
        &file,
        "--task",
        "multiclass",
        "--num-classes",
        "3",
        "--preds",
        "p0,p1,p2",
        "--target",
        "y",
    ]);
    let text = stdout(&output);

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(text.starts_with("multiclass classification metrics of"));
    assert!(text.contains("n = 5"));
    assert!(text.contains("| class | precision | recall |"));
    assert!(text.contains("Averaged over classes (--average macro):"));
    assert!(text.contains("| target \\ pred | 0 | 1 | 2 |"));
    let per_class_row = text.lines().find(|line| line.starts_with("| 1 ")).unwrap();
    let cells: Vec<&str> = per_class_row.split('|').map(str::trim).collect();
    assert_eq!(cells[2..4], ["1.0", "0.5"]);
    let confusion_row = text
        .lines()
        .rev()
        .find(|line| line.starts_with("| 1 "))
        .unwrap();
    let counts: Vec<&str> = confusion_row.split('|').map(str::trim).collect();
    assert_eq!(counts[2..5], ["0", "1", "1"]);
}

#[test]
fn classification_npy_matches_csv() {
    let dir = TempDir::new("cls-npy");
    let scores = array![0.9, -0.4, 0.3, 2.5, 0.1, -1.0, 0.6, 0.2];
    let target = array![1_i32, 0, 1, 1, 0, 0, 0, 1];
    let mut csv = String::from("score,label\n");
    for (score, label) in scores.iter().zip(&target) {
        csv.push_str(&format!("{score},{label}\n"));
    }
    let file = path_arg(&dir.write("binary.csv", &csv));
    let preds_npy = path_arg(&dir.npy("preds.npy", &scores));
    let target_npy = path_arg(&dir.npy("target.npy", &target));

    let from_csv = parse_json(&run_classification(&[
        &file, "--task", "binary", "--preds", "score", "--target", "label", "--format", "json",
    ]));
    let from_npy = parse_json(&run_classification(&[
        "--task",
        "binary",
        "--preds-npy",
        &preds_npy,
        "--target-npy",
        &target_npy,
        "--format",
        "json",
    ]));

    assert_eq!(from_csv, from_npy);
    // Scores outside [0, 1] are logits: sigmoid(x) > 0.5 means x > 0, so the predicted
    // labels are [1, 0, 1, 1, 1, 0, 1, 1].
    assert_eq!(
        from_npy["confusion_matrix"],
        serde_json::json!([[2, 2], [0, 4]])
    );
    assert_eq!(from_npy["per_class"]["support"], serde_json::json!([4, 4]));
}

#[test]
fn classification_multilabel_npy_per_label() {
    let dir = TempDir::new("cls-multilabel");
    let preds = array![[1_u8, 0], [1, 1], [0, 0], [0, 1]];
    let target = array![[1_i64, 0], [0, 1], [0, 1], [1, 1]];
    let preds_npy = path_arg(&dir.npy("preds.npy", &preds));
    let target_npy = path_arg(&dir.npy("target.npy", &target));

    let json = parse_json(&run_classification(&[
        "--task",
        "multilabel",
        "--preds-npy",
        &preds_npy,
        "--target-npy",
        &target_npy,
        "--format",
        "json",
    ]));

    // Per label [[tn, fp], [fn, tp]]: label 0 has tp 1, fp 1, fn 1, tn 1; label 1 has tp 2,
    // fn 1, tn 1.
    let expected = serde_json::json!([[[1, 1], [1, 1]], [[1, 0], [1, 2]]]);
    assert_eq!(json["confusion_matrix"], expected);
    assert_eq!(json_numbers(&json["per_class"]["precision"]), [0.5, 1.0]);
    assert!(json.contains_key("exact_match"));
    assert!(!json.contains_key("auroc"));
}

#[test]
fn classification_error_float_target_npy() {
    let dir = TempDir::new("cls-float-target");
    let preds_npy = path_arg(&dir.npy("preds.npy", &array![0.2, 0.8]));
    let target_npy = path_arg(&dir.npy("target.npy", &array![0.0, 1.0]));

    let output = run_classification(&[
        "--task",
        "binary",
        "--preds-npy",
        &preds_npy,
        "--target-npy",
        &target_npy,
    ]);

    assert_input_error(
        &output,
        &["target.npy", "float dtype", "astype(numpy.int64)"],
    );
}

#[test]
fn classification_error_non_numeric_score() {
    let dir = TempDir::new("cls-non-numeric");
    let file = dir.write("scores.csv", "score,label\n0.2,0\nabc,1\n");
    let file = path_arg(&file);

    let output = run_classification(&[
        &file, "--task", "binary", "--preds", "score", "--target", "label",
    ]);

    assert_input_error(
        &output,
        &[
            "scores.csv",
            "line 3",
            "column \"score\"",
            "\"abc\" is not a number",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("--features"), "{stderr}");
}

#[test]
fn classification_error_shape_names_preds_file() {
    let dir = TempDir::new("cls-shape");
    let preds_npy = path_arg(&dir.npy("preds.npy", &array![0.2, 0.8, 0.4]));
    let target_npy = path_arg(&dir.npy("target.npy", &array![0_i64, 1]));

    let output = run_classification(&[
        "--task",
        "binary",
        "--preds-npy",
        &preds_npy,
        "--target-npy",
        &target_npy,
    ]);

    assert_input_error(&output, &["preds.npy", "shape"]);
}

#[test]
fn classification_error_no_input() {
    let output = run_classification(&["--task", "binary"]);

    assert_input_error(&output, &["missing input", "--preds-npy"]);
}

#[test]
fn classification_error_multilabel_target_1d() {
    let dir = TempDir::new("cls-ml-1d");
    let preds_npy = path_arg(&dir.npy("preds.npy", &array![0.2, 0.8]));
    let target_npy = path_arg(&dir.npy("target.npy", &array![0_i64, 1]));

    let output = run_classification(&[
        "--task",
        "multilabel",
        "--preds-npy",
        &preds_npy,
        "--target-npy",
        &target_npy,
    ]);

    assert_input_error(&output, &["target.npy", "(N, L)"]);
}

#[test]
fn classification_error_label_out_of_range() {
    let dir = TempDir::new("cls-range");
    let file = path_arg(&dir.write("d.csv", "p,y\n0,0\n1,1\n2,7\n"));

    let output = run_classification(&[
        &file,
        "--task",
        "multiclass",
        "--num-classes",
        "3",
        "--preds",
        "p",
        "--target",
        "y",
    ]);

    assert_input_error(&output, &["d.csv", "target", "7", "line i + 2"]);
}

#[test]
fn classification_huge_num_classes_rejected() {
    // num_classes^2 overflowed usize to an empty confusion matrix, and the update panicked.
    let dir = TempDir::new("cls-huge-classes");
    let file = path_arg(&dir.write("mc.csv", "p,t\n0,0\n1,1\n2,2\n"));
    for classes in ["1099511627776", "20000"] {
        let args = [
            file.as_str(),
            "--task",
            "multiclass",
            "--num-classes",
            classes,
            "--preds",
            "p",
            "--target",
            "t",
        ];
        let output = run_classification(&args);
        assert_input_error(&output, &["--num-classes", "num_classes", classes]);
    }
}

#[test]
fn classification_float_label_message() {
    let dir = TempDir::new("cls-float-label");
    let file = path_arg(&dir.write("bin.csv", "p,t\n0.2,0.5\n0.3,1\n"));
    let args = [
        file.as_str(),
        "--task",
        "binary",
        "--preds",
        "p",
        "--target",
        "t",
    ];
    let output = run_classification(&args);
    assert_input_error(
        &output,
        &["label \"0.5\" is not an integer, use integer labels"],
    );
}

#[test]
fn regression_skip_reason_prints_short_value() {
    let dir = TempDir::new("regression-huge");
    let file = dir.write("values.csv", "preds,target\n1e308,2\n-1e308,3\n1,1\n");
    let output = run(regression_args(&file, &[]));
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let table = stdout(&output);
    let row = table
        .lines()
        .find(|line| line.starts_with("| mean_squared_log_error "))
        .unwrap_or_else(|| panic!("no mean_squared_log_error row in {table}"));
    assert!(row.contains("preds has -1e308 at line 3"), "{row}");
}
