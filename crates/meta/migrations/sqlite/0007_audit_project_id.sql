-- Audit entries belong to a project by id, not by name: a project deleted
-- and created again under its old name is another project, whose log starts
-- empty, while the old entries stay in the full log for system admins.

ALTER TABLE audit_log ADD COLUMN project_id INTEGER;
-- Existing entries go to the project that now has their name only if they
-- are no older than it; older ones belonged to a deleted namesake.
UPDATE audit_log SET project_id = (
    SELECT p.id FROM projects p WHERE p.name = audit_log.project AND p.created_at <= audit_log.at
) WHERE project IS NOT NULL;
CREATE INDEX audit_log_by_project_id ON audit_log(project_id, at);

-- That needs project ids that are never given out twice. SQLite numbers a
-- new row from the largest id in the table, so deleting the newest project
-- freed its id for the next one. The highest id ever used is kept here and
-- new projects are numbered from it (the `projects` table itself cannot
-- become AUTOINCREMENT without a rebuild, which would cascade to members
-- and robots inside a migration's transaction).
CREATE TABLE project_id_sequence (last INTEGER NOT NULL);
INSERT INTO project_id_sequence (last) SELECT coalesce(max(id), 0) FROM projects;
CREATE TRIGGER projects_keep_highest_id AFTER INSERT ON projects
BEGIN
    UPDATE project_id_sequence SET last = max(last, NEW.id);
END;
