-- a duplicated or test database must neither hold the platforms' secrets nor pull
UPDATE social_source
   SET auth_login = NULL,
       auth_password = NULL,
       access_token = NULL,
       state = 'paused';
