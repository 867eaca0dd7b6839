-- Every repository belongs, by id, to the project its name starts with.
-- The key has no ON DELETE action, so the database itself refuses to delete
-- a project that still holds a repository, and to create a repository in a
-- project that is gone: no interleaving of a project deletion and a push
-- can leave a repository without its project.

ALTER TABLE repositories ADD COLUMN project_id INTEGER REFERENCES projects(id);

-- Repositories whose project was deleted under them (possible before this
-- key existed) get their project back, private and without an owner, so a
-- system admin can see what they hold and delete it. Ids continue from the
-- highest ever given out (migration 0007).
WITH orphaned AS (
    SELECT CASE WHEN instr(name, '/') > 0 THEN substr(name, 1, instr(name, '/') - 1) ELSE name END AS project,
           min(created_at) AS at
    FROM repositories GROUP BY 1
)
INSERT INTO projects (id, name, created_at, updated_at)
    SELECT (SELECT last FROM project_id_sequence) + row_number() OVER (ORDER BY project), project, at, at
    FROM orphaned WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.name = orphaned.project);

UPDATE repositories SET project_id = (
    SELECT p.id FROM projects p
    WHERE p.name = CASE WHEN instr(repositories.name, '/') > 0
                        THEN substr(repositories.name, 1, instr(repositories.name, '/') - 1)
                        ELSE repositories.name END
);
CREATE INDEX repositories_by_project ON repositories(project_id);

-- ALTER TABLE cannot add NOT NULL; these triggers hold the column to it.
CREATE TRIGGER repositories_insert_need_a_project BEFORE INSERT ON repositories
WHEN NEW.project_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a repository needs a project');
END;
CREATE TRIGGER repositories_update_need_a_project BEFORE UPDATE OF project_id ON repositories
WHEN NEW.project_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a repository needs a project');
END;
