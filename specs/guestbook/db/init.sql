SET @gb_pw = REGEXP_REPLACE(CONVERT(LOAD_FILE('/run/secrets/db-password') USING utf8mb4), '[\r\n]+$', '');
DROP USER IF EXISTS 'guestbook'@'%';
SET @gb_sql = IF(@gb_pw IS NULL OR @gb_pw = '', 'SIGNAL SQLSTATE ''45000'' SET MESSAGE_TEXT = ''guestbook init-file: /run/secrets/db-password is missing, empty or not world-readable; user guestbook not created''', CONCAT('CREATE USER ''guestbook''@''%'' IDENTIFIED BY ', QUOTE(@gb_pw), ' WITH MAX_USER_CONNECTIONS 20'));
PREPARE gb_stmt FROM @gb_sql;
EXECUTE gb_stmt;
DEALLOCATE PREPARE gb_stmt;
SET @gb_pw = NULL, @gb_sql = NULL;
GRANT SELECT, INSERT ON guestbook.entries TO 'guestbook'@'%';
