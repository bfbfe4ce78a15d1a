# Build the Windows installer: icons, PyInstaller one-folder bundle, optional signing, Inno Setup, optional signing.
#
#   pwsh packaging/windows/build.ps1 [-Python python]
#
# Signing (skipped, with a notice, when the variables are absent):
#   WINDOWS_CERT_PFX_BASE64  the code-signing certificate (.pfx) as base64
#   WINDOWS_CERT_PASSWORD    its password
#   WINDOWS_TIMESTAMP_URL    RFC 3161 timestamp server (default http://timestamp.digicert.com)
# Output: dist\azure-openai-chat-<version>-windows-x64-setup.exe
param([string]$Python = "python")
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root
$Name = "azure-openai-chat"
$Version = (Select-String -Path "desktop\__init__.py" -Pattern '__version__ = "([^"]+)"').Matches[0].Groups[1].Value
$Icons = Join-Path $Root "build\icons"
$Watch = [Diagnostics.Stopwatch]::StartNew()
function Step($Message) { Write-Host ("build.ps1: [{0:N0} s] {1}" -f $Watch.Elapsed.TotalSeconds, $Message) }
function Invoke-Checked {
    & $args[0] $args[1..($args.Count - 1)]
    if ($LASTEXITCODE -ne 0) { throw "build.ps1: '$($args -join ' ')' failed with exit code $LASTEXITCODE" }
}

# Signing hook: sign files in place with signtool when a certificate is provided.
$Pfx = $null
if ($env:WINDOWS_CERT_PFX_BASE64) {
    $Pfx = Join-Path ([IO.Path]::GetTempPath()) "aoc-signing.pfx"
    [IO.File]::WriteAllBytes($Pfx, [Convert]::FromBase64String($env:WINDOWS_CERT_PFX_BASE64))
}
$Timestamp = if ($env:WINDOWS_TIMESTAMP_URL) { $env:WINDOWS_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }
function Find-SignTool {
    $found = Get-Command signtool.exe -ErrorAction SilentlyContinue
    if ($found) { return $found.Source }
    $kit = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" -ErrorAction SilentlyContinue |
        Sort-Object FullName -Descending | Select-Object -First 1
    if (-not $kit) { throw "build.ps1: a certificate was given but signtool.exe was not found (install the Windows SDK)" }
    return $kit.FullName
}
function Invoke-Sign([string[]]$Files) {
    if (-not $Pfx) { Step "signing skipped (WINDOWS_CERT_PFX_BASE64 not set): $($Files.Count) file(s) unsigned"; return }
    $signtool = Find-SignTool
    Invoke-Checked $signtool sign /fd SHA256 /td SHA256 /tr $Timestamp /f $Pfx /p $env:WINDOWS_CERT_PASSWORD @Files
}

try {
    Step "rendering icons"
    Invoke-Checked $Python packaging\render_icons.py --out $Icons

    Step "PyInstaller bundle"
    $env:AOC_ICONS_DIR = $Icons
    Invoke-Checked $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller `
        "packaging\pyinstaller\$Name.spec"
    $Exe = Join-Path $Root "dist\$Name\$Name.exe"
    Invoke-Sign @($Exe)

    Step "smoke test of the bundle"
    $SmokeDir = Join-Path ([IO.Path]::GetTempPath()) ("aoc-smoke-" + [Guid]::NewGuid())
    $proc = Start-Process -FilePath $Exe -ArgumentList "--profile-dir", "`"$SmokeDir`"", "--smoke-test" -Wait -PassThru
    if ($proc.ExitCode -ne 0) { throw "build.ps1: the bundled app's --smoke-test exited with $($proc.ExitCode)" }

    Step "Inno Setup"
    $Iscc = Get-Command iscc.exe -ErrorAction SilentlyContinue
    $IsccPath = if ($Iscc) { $Iscc.Source } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
    if (-not (Test-Path $IsccPath)) {
        Step "installing Inno Setup (chocolatey)"
        Invoke-Checked choco install innosetup --no-progress -y
    }
    $IsccArgs = @("/Qp", "/DAppVersion=$Version", "/DSourceDir=$Root\dist\$Name", "/DOutputDir=$Root\dist",
        "/DIconFile=$Icons\$Name.ico")
    if ($Pfx) {
        # ISCC calls this to sign the uninstaller it embeds; $f is the file to sign.
        $signtool = Find-SignTool
        $IsccArgs += "/Saoc=`"$signtool`" sign /fd SHA256 /td SHA256 /tr $Timestamp /f `"$Pfx`" /p $env:WINDOWS_CERT_PASSWORD `$f"
        $IsccArgs += "/DSignToolName=aoc"
    }
    Invoke-Checked $IsccPath @IsccArgs "packaging\windows\$Name.iss"
    $Setup = Join-Path $Root "dist\$Name-$Version-windows-x64-setup.exe"
    Invoke-Sign @($Setup)

    $size = (Get-ChildItem "dist\$Name" -Recurse | Measure-Object Length -Sum).Sum / 1MB
    Step ("done: bundle {0:N0} MB, installer {1:N0} MB: {2}" -f $size, ((Get-Item $Setup).Length / 1MB), $Setup)
}
finally {
    if ($Pfx -and (Test-Path $Pfx)) { Remove-Item $Pfx -Force }
}
