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
