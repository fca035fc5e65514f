-- hardspec guestbook — runs at every start of mariadbd (init-file), as the server itself, before it
-- accepts connections.
-- 1. The image holds no InnoDB file: at the first start on a new volume InnoDB creates its system
--    tablespace and redo log, and the statements below create the InnoDB tables (MariaDB's three and
--    the guestbook's) and the guestbook's seed rows. At every later start each finds its table and
--    does nothing; the seed rows go in only with the table that was just created.
SET @gb_first = NOT EXISTS (SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'guestbook' AND TABLE_NAME = 'entries');
CREATE TABLE IF NOT EXISTS mysql.innodb_table_stats (
  database_name VARCHAR(64) NOT NULL, table_name VARCHAR(199) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  n_rows BIGINT UNSIGNED NOT NULL, clustered_index_size BIGINT UNSIGNED NOT NULL, sum_of_other_index_sizes BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (database_name, table_name)
) ENGINE=INNODB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_bin STATS_PERSISTENT=0;
CREATE TABLE IF NOT EXISTS mysql.innodb_index_stats (
  database_name VARCHAR(64) NOT NULL, table_name VARCHAR(199) NOT NULL, index_name VARCHAR(64) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  stat_name VARCHAR(64) NOT NULL, stat_value BIGINT UNSIGNED NOT NULL, sample_size BIGINT UNSIGNED, stat_description VARCHAR(1024) NOT NULL,
  PRIMARY KEY (database_name, table_name, index_name, stat_name)
) ENGINE=INNODB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_bin STATS_PERSISTENT=0;
CREATE TABLE IF NOT EXISTS mysql.transaction_registry (
  transaction_id BIGINT UNSIGNED NOT NULL, commit_id BIGINT UNSIGNED NOT NULL,
  begin_timestamp TIMESTAMP(6) NOT NULL DEFAULT '0000-00-00 00:00:00.000000',
  commit_timestamp TIMESTAMP(6) NOT NULL DEFAULT '0000-00-00 00:00:00.000000',
  isolation_level ENUM('READ-UNCOMMITTED', 'READ-COMMITTED', 'REPEATABLE-READ', 'SERIALIZABLE') NOT NULL,
  PRIMARY KEY (transaction_id), UNIQUE KEY (commit_id), INDEX (begin_timestamp), INDEX (commit_timestamp, transaction_id)
) ENGINE=INNODB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_bin STATS_PERSISTENT=0;
CREATE DATABASE IF NOT EXISTS guestbook CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS guestbook.entries (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username    VARCHAR(40)  NOT NULL,
  suggestion  VARCHAR(500) NOT NULL,
  created_at  TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY entries_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO guestbook.entries (username, suggestion, created_at)
  SELECT * FROM (VALUES
    ('Ada', 'Please add a dark mode to the reading room.', '2024-05-02 09:15:00'),
    ('Grace', 'More power sockets near the window seats would be great.', '2024-05-03 14:40:00'),
    ('Linus', 'Keep the late opening hours on Thursdays!', '2024-05-04 18:05:00')) AS seed
  WHERE @gb_first;
SET @gb_first = NULL;
-- 2. The app user, (re)created from the compose secret: only SELECT, INSERT on guestbook.entries.
SET @gb_pw = REGEXP_REPLACE(CONVERT(LOAD_FILE('/run/secrets/db-password') USING utf8mb4), '[\r\n]+$', '');
DROP USER IF EXISTS 'guestbook'@'%';
SET @gb_sql = IF(@gb_pw IS NULL OR @gb_pw = '', 'SIGNAL SQLSTATE ''45000'' SET MESSAGE_TEXT = ''guestbook init-file: /run/secrets/db-password is missing, empty or not world-readable; user guestbook not created''', CONCAT('CREATE USER ''guestbook''@''%'' IDENTIFIED BY ', QUOTE(@gb_pw), ' WITH MAX_USER_CONNECTIONS 20'));
PREPARE gb_stmt FROM @gb_sql;
EXECUTE gb_stmt;
DEALLOCATE PREPARE gb_stmt;
SET @gb_pw = NULL, @gb_sql = NULL;
GRANT SELECT, INSERT ON guestbook.entries TO 'guestbook'@'%';
