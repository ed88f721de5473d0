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
    let cases: [(&[&str], &[&str]); 6] = [
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
        "--max-dets",
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
