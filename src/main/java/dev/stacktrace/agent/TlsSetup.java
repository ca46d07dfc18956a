package dev.stacktrace.agent;

import com.sun.net.httpserver.HttpsConfigurator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * HTTPS for the agent: the server's key and certificate from a keystore (PKCS#12, or JKS), whose
 * password comes from a file or from the environment, never from the command line.
 */
final class TlsSetup {
    static final String PASSWORD_ENV = "STACKTRACE_TLS_PASSWORD";

    private TlsSetup() {}

    static HttpsConfigurator configurator(Path keystore, Path passwordFile) throws IOException {
        char[] password = password(keystore, passwordFile);
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType()); // PKCS12; also reads JKS
            try (InputStream in = Files.newInputStream(keystore)) {
                store.load(in, password);
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return new HttpsConfigurator(context);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use the keystore " + keystore + " (tls=): " + e.getMessage()
                    + (e.getCause() instanceof java.security.UnrecoverableKeyException ? " (wrong password?)" : ""), e);
        }
    }

    private static char[] password(Path keystore, Path passwordFile) throws IOException {
        if (!Files.isRegularFile(keystore)) throw new IllegalArgumentException("tls=" + keystore + " is not a readable file");
        if (passwordFile != null) {
            if (!Files.isRegularFile(passwordFile)) {
                throw new IllegalArgumentException("tlsPasswordFile " + passwordFile + " is not a readable file");
            }
            return Files.readString(passwordFile, StandardCharsets.UTF_8).strip().toCharArray();
        }
        String fromEnvironment = System.getenv(PASSWORD_ENV);
        if (fromEnvironment == null) {
            throw new IllegalArgumentException("tls=" + keystore + " needs its password: give tlsPasswordFile=<file> or set "
                    + "the environment variable " + PASSWORD_ENV);
        }
        return fromEnvironment.toCharArray();
    }
}
