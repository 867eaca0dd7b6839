//! Concrete paths for the management API's route patterns, for tests that
//! walk the whole route table.

/// `path` (a route pattern such as `/projects/{project_name_or_id}/members/{mid}`)
/// with the project parameter set to `project` and every other parameter to
/// a fixed, plausible value (ids 1, repository `app`, reference and tag `v1`).
pub fn fill_route(path: &str, project: &str) -> String {
    [
        ("{project_name_or_id}", project),
        ("{user_id}", "1"),
        ("{robot_id}", "1"),
        ("{mid}", "1"),
        ("{repository_name}", "app"),
        ("{reference}", "v1"),
        ("{tag_name}", "v1"),
    ]
    .iter()
    .fold(path.to_owned(), |p, (param, value)| p.replace(param, value))
}
